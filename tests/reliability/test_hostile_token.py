"""Against hostile servers, the token never leaves: bad characters, redirects, proxies.

Each test runs a small `RawServer` of its own on loopback and checks both what the user sees
(a clear `sqlprovider.Error` without the token) and what reached each server.
"""

from __future__ import annotations

import pytest

import sqlprovider
from sqlprovider.errors import InterfaceError, ResponseError

from .hostile import TOKEN, Exchange, RawServer, droplets_page, hostile_connect
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
