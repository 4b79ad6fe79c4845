"""Against hostile servers, the token never leaves: bad characters, redirects, proxies (an HTTPS
proxy sees only the CONNECT, never the token; NO_PROXY and loopback go around it).

Each test runs a small `RawServer` of its own on loopback and checks both what the user sees
(a clear `sqlprovider.Error` without the token) and what reached each server.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import sqlprovider
from sqlprovider.errors import InterfaceError, ResponseError, ServiceError
from sqlprovider.http import connect

from .hostile import TOKEN, Exchange, RawServer, droplets_page, hostile_connect, self_signed
from .test_secrets import assert_secret_free, everything_about

pytestmark = pytest.mark.timeout(30)

BACKUPS_7 = "SELECT id FROM digitalocean.compute.droplet_backups WHERE droplet_id = 7"


def _backups(ex: Exchange) -> None:
    ex.json({"backups": [{"id": 70, "name": "b"}], "links": {}, "meta": {"total": 1}})


@pytest.mark.parametrize(
    "token",
    [
        TOKEN + "\nsecond-line-of-the-token-file",
        TOKEN[:20] + "\r\n" + TOKEN[20:],
        "dop_v1_tök€n" + "ab" * 20,
        TOKEN[:20] + "\x00" + TOKEN[20:],
        TOKEN[:20] + " " + TOKEN[20:],
    ],
    ids=["inner-newline", "inner-crlf", "non-latin-1", "nul", "inner-space"],
)
def test_a_token_with_characters_a_header_cannot_carry_is_refused_at_connect(
    token: str,
) -> None:
    with RawServer(_backups) as server:
        with pytest.raises(InterfaceError) as caught:
            sqlprovider.connect(token=token, api_url=server.url)
        assert server.seen == [], "nothing was sent"
    text = everything_about(caught.value)
    assert "token" in str(caught.value)
    assert "character" in str(caught.value)
    for part in token.split():
        assert_secret_free(text, part.strip())


def test_a_redirect_to_another_host_is_an_error_naming_that_host_not_its_query() -> None:
    with RawServer(_backups) as other:
        target = other.url.replace("127.0.0.1", "127.0.0.2") + "/v2/droplets?leak=s3cr3tquery"

        def redirect(ex: Exchange) -> None:
            ex.reply(302, b"", {"Location": target})

        with (
            RawServer(redirect) as server,
            hostile_connect(server) as con,
            pytest.raises(ResponseError) as caught,
        ):
            con.execute(BACKUPS_7).fetchall()
        assert other.seen == [], "the redirect was not followed"
    message = str(caught.value)
    assert "127.0.0.2" in message
    assert "redirect" in message
    assert "s3cr3tquery" not in message
    assert len(server.seen) == 1, "a redirect is final, not retried"
    assert_secret_free(everything_about(caught.value), TOKEN)


@pytest.mark.parametrize(
    ("status", "location"),
    [(307, "/v2/account/keys"), (301, "ftp://127.0.0.1/v2/droplets"), (308, None)],
    ids=["same-host-other-path", "ftp-target", "loop"],
)
def test_no_redirect_is_followed_even_to_the_same_host(status: int, location: str | None) -> None:
    def redirect(ex: Exchange) -> None:
        ex.reply(status, b"", {"Location": location or ex.path})

    with (
        RawServer(redirect) as server,
        hostile_connect(server) as con,
        pytest.raises(ResponseError, match="redirect"),
    ):
        con.execute(BACKUPS_7).fetchall()
    assert [seen.path.split("?")[0] for seen in server.seen] == ["/v2/droplets/7/backups"]


@pytest.fixture
def proxy_env(monkeypatch: pytest.MonkeyPatch) -> RawServer:
    """A hostile 'proxy' on loopback, set in every proxy variable requests reads."""
    proxy = RawServer(lambda ex: ex.json(droplets_page([666])))
    proxy.start()
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, proxy.url)
    yield proxy  # type: ignore[misc]
    proxy.stop()


def test_loopback_traffic_never_goes_through_a_proxy(proxy_env: RawServer) -> None:
    with RawServer(_backups) as server, hostile_connect(server) as con:
        assert con.execute(BACKUPS_7).fetchall() == [(70,)]
    assert proxy_env.seen == [], "the token went to the proxy"
    assert len(server.seen) == 1


def test_plain_http_through_a_proxy_is_refused_before_sending(proxy_env: RawServer) -> None:
    with (
        hostile_connect("http://api.example.invalid", allow_http=True) as con,
        pytest.raises(InterfaceError, match="proxy") as caught,
    ):
        con.execute(BACKUPS_7).fetchall()
    assert proxy_env.seen == [], "the token went in clear to the proxy"
    assert_secret_free(everything_about(caught.value), TOKEN)


API_HOST = "api.example.test"


@pytest.fixture
def tls_api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RawServer]:
    """An HTTPS API on loopback with a certificate for API_HOST that the client trusts."""
    bundle, context = self_signed(tmp_path, API_HOST)
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(connect, "_tls", None)  # the process's context, rebuilt with the bundle
    with RawServer(_backups, tls=context) as api:
        yield api


def _use_proxy(monkeypatch: pytest.MonkeyPatch, url: str, no_proxy: str = "") -> None:
    for name in ("NO_PROXY", "no_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name in ("HTTPS_PROXY", "https_proxy"):
        monkeypatch.setenv(name, url)
    if no_proxy:
        monkeypatch.setenv("no_proxy", no_proxy)


def test_https_goes_through_the_proxy_in_a_tunnel_that_never_carries_the_token(
    tls_api: RawServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with RawServer(_backups, tunnel_to=("127.0.0.1", tls_api.port)) as proxy:
        _use_proxy(monkeypatch, f"http://user:p%40ss@127.0.0.1:{proxy.port}")
        with hostile_connect(f"https://{API_HOST}") as con:
            assert con.execute(BACKUPS_7).fetchall() == [(70,)]
            assert con.execute(BACKUPS_7.replace("7", "8")).fetchall() == [(70,)]
    assert [(s.method, s.path) for s in proxy.seen] == [("CONNECT", f"{API_HOST}:443")], (
        "one tunnel, kept alive for the second request"
    )
    connect_headers = {k.lower(): v for k, v in proxy.seen[0].headers.items()}
    assert "authorization" not in connect_headers
    assert_secret_free(repr(proxy.seen), TOKEN)
    assert connect_headers["proxy-authorization"] == "Basic dXNlcjpwQHNz"  # user:p@ss
    assert [s.headers["Authorization"] for s in tls_api.seen] == [f"Bearer {TOKEN}"] * 2


def test_a_proxy_refusing_the_tunnel_is_named_with_what_to_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with RawServer(_backups) as proxy:  # no tunnel_to: every CONNECT gets 407
        _use_proxy(monkeypatch, proxy.url)
        with (
            hostile_connect(f"https://{API_HOST}", retries=0) as con,
            pytest.raises(ServiceError, match="refused the tunnel") as caught,
        ):
            con.execute(BACKUPS_7).fetchall()
    assert "407" in str(caught.value)
    assert "HTTPS_PROXY" in str(caught.value)
    assert_secret_free(everything_about(caught.value) + repr(proxy.seen), TOKEN)


@pytest.mark.parametrize(
    ("url", "no_proxy", "proxied"),
    [
        (f"https://{API_HOST}", "", True),
        (f"https://{API_HOST}", API_HOST, False),
        (f"https://{API_HOST}", ".example.test", False),
        (f"https://{API_HOST}", "other.test,example.test", False),
        (f"https://{API_HOST}", "*", False),
        (f"https://{API_HOST}:8443", f"{API_HOST}:8443", False),
        (f"https://{API_HOST}", "api.example.testing", True),
        ("https://10.1.2.3", "10.0.0.0/8", False),
        ("https://10.1.2.3", "192.168.0.0/16", True),
        ("https://127.0.0.1:8443", "", False),
        ("https://localhost", "", False),
        ("https://[::1]:8443", "", False),
    ],
)
def test_no_proxy_and_loopback_bypass_the_proxy(
    monkeypatch: pytest.MonkeyPatch, url: str, no_proxy: str, proxied: bool
) -> None:
    _use_proxy(monkeypatch, "http://127.0.0.1:3128", no_proxy)
    proxy = connect.proxy_for(url)
    assert (proxy is not None) == proxied
    if proxy is not None:
        assert (proxy.host, proxy.port) == ("127.0.0.1", 3128)


def test_a_proxy_this_transport_cannot_use_is_refused_before_sending(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _use_proxy(monkeypatch, "socks5://user:secretpw@127.0.0.1:1080")
    with (
        hostile_connect(f"https://{API_HOST}") as con,
        pytest.raises(InterfaceError, match="http:// proxies") as caught,
    ):
        con.execute(BACKUPS_7).fetchall()
    assert "secretpw" not in everything_about(caught.value)
