"""Where the token and the API URL come from, and how the token stays secret.

The token lives only inside `Token`; its repr, str and every message show a short fingerprint
instead. The bearer header is added at send time by `BearerAuth` and never logged.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import MutableMapping, Sequence
from urllib.parse import urlsplit

from sqlprovider.errors import InterfaceError
from sqlprovider.spec.digest import sha256_hex


class Token:
    """An API token that never shows itself in logs, reprs or tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str) or not value.strip():
            raise InterfaceError("the API token must be a non-empty string")
        self._value = value.strip()
        _check_characters(self._value)

    def reveal(self) -> str:
        """Return the secret itself; only the bearer header should call this."""
        return self._value

    @property
    def fingerprint(self) -> str:
        """A short, stable, non-reversible id of the token (keys caches and rate limiters)."""
        return sha256_hex(self._value.encode())[:12]

    def __repr__(self) -> str:
        return f"Token(fingerprint={self.fingerprint!r})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Token) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Token cannot be pickled: it would write the secret out")


def _check_characters(value: str) -> None:
    """Refuse a token an HTTP header cannot carry, without ever quoting it.

    Tokens are printable ASCII. Anything else (a second line of a token file, a space, a control
    or non-ASCII character) would make http.client raise an error that quotes the whole
    `Authorization` header, so it is caught here, before any request is built.
    """
    for position, char in enumerate(value, start=1):
        if "!" <= char <= "~":
            continue
        if char in "\r\n":
            kind = "line break"
        elif char.isspace():
            kind = "space"
        elif not char.isascii():
            kind = "non-ASCII character"
        else:
            kind = "control character"
        raise InterfaceError(
            f"the API token holds a {kind} (character {position} of {len(value)}), which an "
            "HTTP header cannot carry; check that the token file or variable holds the token "
            "alone on one line"
        )


class BearerAuth:
    """Adds `Authorization: Bearer ...` to a request's headers as it is sent, and nowhere else."""

    def __init__(self, token: Token) -> None:
        self._token = token

    def add_to(self, headers: MutableMapping[str, str]) -> None:
        """Put the bearer header into `headers` (those of one request about to be sent)."""
        headers["Authorization"] = f"Bearer {self._token.reveal()}"

    def __repr__(self) -> str:
        return f"BearerAuth({self._token!r})"


def resolve_token(explicit: str | Token | None, env_names: Sequence[str]) -> Token | None:
    """Pick the token: the explicit argument, else the first environment variable that is set."""
    if isinstance(explicit, Token):
        return explicit
    if explicit is not None:
        return Token(explicit)
    for name in env_names:
        value = os.environ.get(name, "").strip()
        if value:
            return Token(value)
    return None


class ApiUrlError(InterfaceError):
    """A base URL that cannot be used, said of where it came from.

    Attributes:
        source: how the caller gave the URL (``api_url``, ``$DIGITALOCEAN_API_URL``, the
            ``api_url`` of an account); the CLI names its flag instead of ``api_url``.
        problem: what is wrong, worded to follow `source`.
    """

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"{source} {problem}")
        self.source = source
        self.problem = problem


def resolve_api_url(
    explicit: str | None,
    env_name: str,
    default: str,
    *,
    allow_http: bool = False,
    path_prefix: str = "",
    source: str = "api_url",
) -> str:
    """Pick the base URL (argument, else environment, else default) and normalise it.

    Args:
        source: how to name `explicit` in an error (the environment variable is named as
            ``$NAME`` when the URL came from it).

    Raises:
        ApiUrlError: as `normalize_api_url` does, naming where the URL came from.
    """
    env = os.environ.get(env_name, "") if env_name and not explicit else ""
    url = explicit or env or default
    if not explicit and env:
        source = f"${env_name}"
    return normalize_api_url(url, path_prefix=path_prefix, allow_http=allow_http, source=source)


def normalize_api_url(
    url: str, *, path_prefix: str = "", allow_http: bool = False, source: str = "api_url"
) -> str:
    """The API's base URL as ``scheme://host[:port]``, or a clear refusal.

    Every method path of the spec already starts with `path_prefix` (``/v2``), so a base URL
    written the common way, ``https://api.digitalocean.com/v2``, has that prefix dropped (with
    any trailing ``/``): kept, it would make every request ``/v2/v2/...``, which the API answers
    with 404, and a 404 can read as "no rows". Any other path, a query or a fragment is refused
    rather than guessed at. Every entry point (connect, attach, the CLI, SQLAlchemy) calls this.

    Raises:
        ApiUrlError: a URL that is not http(s), carries credentials, a path other than
            `path_prefix`, a query or a fragment, or plain http to a host that is not loopback.
    """
    text = url.strip() if isinstance(url, str) else ""
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ApiUrlError(
            source,
            f"must look like https://host[:port], such as https://api.digitalocean.com, "
            f"not {_safe(text)!r}",
        )
    if parts.username or parts.password:
        raise ApiUrlError(source, "must not carry credentials; pass the token separately")
    path = parts.path.rstrip("/")
    prefix = path_prefix.rstrip("/")
    if prefix and path == prefix:
        path = ""
    if path or parts.query or parts.fragment:
        extra = path + (f"?{parts.query}" if parts.query else "")
        extra += f"#{parts.fragment}" if parts.fragment else ""
        accepted = f" (a trailing {prefix} is accepted and dropped)" if prefix else ""
        raise ApiUrlError(
            source,
            f"must be the API's address without a path or query, such as "
            f"{parts.scheme}://{parts.netloc}{accepted}; {extra!r} in {_safe(text)!r} would be "
            "put in front of every request path. Remove it.",
        )
    if parts.scheme == "http" and not allow_http and not is_loopback(parts.hostname):
        raise ApiUrlError(
            source,
            f"is plain http to {parts.hostname}: the token would travel unencrypted. "
            "Use https, or pass allow_http=True (--allow-http) if you really mean it.",
        )
    return f"{parts.scheme}://{parts.netloc}"


def _safe(url: str) -> str:
    """The URL with any user:password part masked (it may hold a token pasted by mistake)."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest.split("/", 1)[0]:
        return url
    return f"{scheme}://***@{rest.split('@', 1)[1]}"


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine (localhost or a loopback address)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
