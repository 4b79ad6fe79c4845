"""Opening one connection to the API: TLS that verifies, and the environment's proxy.

TLS uses one context per process, verifying against certifi's bundle where it is installed
(the trust `requests` gave before), else the system's store; REQUESTS_CA_BUNDLE,
CURL_CA_BUNDLE or SSL_CERT_FILE name another bundle, as they did. The proxy comes from the
environment (`urllib.request.getproxies`, NO_PROXY through `proxy_bypass`, plus CIDR entries),
never for loopback. HTTPS goes through it as a CONNECT tunnel whose request carries only the
proxy's own credentials (from the proxy URL): the token travels inside the TLS session to the
API, never to the proxy. The connection classes are looked up on `http.client` when a
connection is made, so a recorder that swaps them (vcrpy) sees every request. Imports `errors`,
`http.abort`, `http.auth` and `http.neterrors`.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import os
import ssl
import threading
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit

from sqlprovider.errors import InterfaceError
from sqlprovider.http.abort import attach
from sqlprovider.http.auth import is_loopback
from sqlprovider.http.neterrors import ProxyRefusedError
from sqlprovider.spec.record import Record, field

__all__ = ["Proxy", "environ_proxy", "open_connection", "proxy_for", "tls_context"]

_tls: ssl.SSLContext | None = None
_tls_lock = threading.Lock()
_BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE")


class Proxy(Record):
    """An http:// proxy to tunnel through; `headers` (its credentials) go to it alone."""

    host: str
    port: int
    headers: Mapping[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Proxy({self.host}:{self.port})"


def tls_context() -> ssl.SSLContext:
    """The process's TLS context (built once: loading a CA bundle takes milliseconds)."""
    global _tls
    with _tls_lock:
        if _tls is None:
            bundle = next((os.environ[n] for n in _BUNDLE_VARIABLES if os.environ.get(n)), None)
            if bundle is None:
                with contextlib.suppress(ImportError):
                    import certifi

                    bundle = certifi.where()
            if bundle is not None and os.path.isdir(bundle):
                _tls = ssl.create_default_context(capath=bundle)
            else:
                _tls = ssl.create_default_context(cafile=bundle)
        return _tls


def environ_proxy(base_url: str) -> str | None:
    """The proxy URL the environment sets for `base_url` (None when NO_PROXY exempts it, or
    for loopback, which never goes through a proxy)."""
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if not host or is_loopback(host):
        return None
    import urllib.request  # only for a remote API: it costs a few milliseconds to load

    proxies = urllib.request.getproxies()
    url = proxies.get(parts.scheme) or proxies.get("all")
    if not url or urllib.request.proxy_bypass(f"{host}:{port}") or _in_no_proxy_network(host):
        return None
    return url


def proxy_for(base_url: str) -> Proxy | None:
    """The proxy to tunnel through to `base_url`, or None to connect directly.

    Raises:
        InterfaceError: the environment names a proxy this transport cannot use (not http://).
    """
    url = environ_proxy(base_url)
    return None if url is None else _parse_proxy(url)


def _in_no_proxy_network(host: str) -> bool:
    """Whether `host` is an address inside a network NO_PROXY lists (``10.0.0.0/8``)."""
    import ipaddress  # only when a proxy is configured at all

    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    entries = (os.environ.get("no_proxy") or os.environ.get("NO_PROXY") or "").split(",")
    for entry in (e.strip() for e in entries):
        if "/" in entry:
            with contextlib.suppress(ValueError):
                if address in ipaddress.ip_network(entry, strict=False):
                    return True
    return False


def _parse_proxy(url: str) -> Proxy:
    parts = urlsplit(url if "://" in url else f"http://{url}")
    try:
        port = parts.port or 80
    except ValueError:
        port = 0
    if parts.scheme != "http" or not parts.hostname or not port:
        raise InterfaceError(
            f"the proxy {parts.hostname or '?'} set in the environment (HTTPS_PROXY/ALL_PROXY) "
            f"is a {parts.scheme}:// URL, and sqlprovider tunnels only through http:// proxies "
            "(the connection to the API inside the tunnel is TLS either way): give it as "
            "http://host:port, or add the API host to NO_PROXY"
        )
    headers: dict[str, str] = {}
    if parts.username is not None:
        credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        headers["Proxy-Authorization"] = "Basic " + base64.b64encode(credentials.encode()).decode()
    return Proxy(parts.hostname, port, headers)


def open_connection(
    scheme: str, host: str, port: int, timeout: float, proxy: Proxy | None
) -> http.client.HTTPConnection:
    """A new connection to `host:port`, connected (through `proxy`'s tunnel if given).

    Raises:
        ProxyRefusedError: the proxy answered the CONNECT with an error.
        OSError: the connection (or the TLS handshake) failed.
    """
    if scheme != "https":
        connection = http.client.HTTPConnection(host, port, timeout=timeout)
    elif proxy is None:
        connection = http.client.HTTPSConnection(host, port, timeout=timeout, context=tls_context())
    else:
        connection = http.client.HTTPSConnection(
            proxy.host, proxy.port, timeout=timeout, context=tls_context()
        )
        connection.set_tunnel(host, port, headers=dict(proxy.headers))
    attach(connection)  # the request's deadline and abort now reach a hung connect too
    try:
        connection.connect()
    except OSError as exc:
        connection.close()
        said = str(exc)
        if proxy is not None and said.startswith("Tunnel connection failed"):
            answer = said.partition(":")[2].strip()
            raise ProxyRefusedError(proxy.host, proxy.port, answer) from None
        raise
    return connection
