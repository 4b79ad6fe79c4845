"""Named accounts: the config file that names them, where each token comes from, the `Account`.

Several DigitalOcean tokens (teams, staging and production) are named in a TOML file, by
default `~/.config/sqlprovider/config.toml` (the platform's user config folder) or the file in
`$SQLPROVIDER_CONFIG`:

    default_accounts = ["prod"]          # optional: what connect() uses with no selection

    [accounts.prod]
    token_env = "DO_PROD_TOKEN"          # the token is read from this variable

    [accounts.staging]
    token_command = "pass show do/staging"   # run without a shell; its output is never logged
    api_url = "https://api.digitalocean.com"

A token written in the file itself (`token = "..."`) is accepted only when no one else can read
the file (as ssh treats a private key); sqlprovider never writes one there. Without a file there
is one account, `default`, whose token comes from the provider's variables as before.

An `Account` is what the engine threads through: a name, a base URL and the `ApiClient` that
holds the token. It is what the hidden `account` column of every row says. Imports `http.*`,
`spec.record` and `errors`.
"""

from __future__ import annotations

import os
import stat
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlprovider.errors import InterfaceError
from sqlprovider.http.auth import Token
from sqlprovider.http.client import ApiClient
from sqlprovider.spec.record import Record

#: Environment variable naming the config file.
CONFIG_ENV = "SQLPROVIDER_CONFIG"
#: The account a connection uses when no config file names any other.
DEFAULT_ACCOUNT = "default"
#: Seconds a `token_command` may run before it is given up.
TOKEN_COMMAND_TIMEOUT = 30.0

_ACCOUNT_KEYS = frozenset({"token_env", "token_command", "token", "api_url"})
_command_tokens: dict[tuple[str, ...], Token] = {}
_command_lock = threading.Lock()


class AccountConfig(Record):
    """How one named account gets its token and base URL (no secret is shown by repr).

    Attributes:
        name: the account's name, as the `account` column shows it.
        api_url: its base URL, or None for the connection's.
        token: a token given directly (connect(token=...), or the file's `token`).
        token_env: the environment variable holding the token.
        token_command: the argv printing the token on stdout.
        env_fallback: read the provider's usual token variables when nothing else is given
            (the implicit `default` account).
    """

    name: str
    api_url: str | None = None
    token: Token | None = None
    token_env: str | None = None
    token_command: tuple[str, ...] | None = None
    env_fallback: bool = False

    def resolve_token(self, provider_env: Sequence[str]) -> Token | None:
        """The account's token, or None when it has none to give (the implicit default).

        Raises:
            InterfaceError: the variable is not set, or the command failed; names the account.
        """
        if self.token is not None:
            return self.token
        if self.token_env is not None:
            value = os.environ.get(self.token_env, "").strip()
            if not value:
                raise InterfaceError(
                    f"account {self.name!r}: ${self.token_env} (its token_env) is not set"
                )
            return Token(value)
        if self.token_command is not None:
            return _run_token_command(self.name, self.token_command)
        for name in provider_env if self.env_fallback else ():
            value = os.environ.get(name, "").strip()
            if value:
                return Token(value)
        return None


class Config(Record):
    """The accounts a config file (or mapping) names, and which ones are used by default.

    Attributes:
        accounts: by name, in file order.
        default_accounts: what a connection uses when it selects nothing.
        path: the file it came from (None for a mapping or no file).
    """

    accounts: Mapping[str, AccountConfig]
    default_accounts: tuple[str, ...]
    path: Path | None = None

    def select(self, selection: str | Sequence[str] | None) -> list[AccountConfig]:
        """The accounts for `connect(accounts=...)`: names, `"*"` for all, None for the default.

        Raises:
            InterfaceError: an unknown name (the message lists the configured ones).
        """
        if selection is None:
            names: Sequence[str] = self.default_accounts
        elif isinstance(selection, str):
            names = list(self.accounts) if selection == "*" else _split(selection)
        else:
            names = [str(name) for name in selection]
        if not names:
            raise InterfaceError("accounts= selects no account; name one, or pass '*' for all")
        chosen: list[AccountConfig] = []
        for name in dict.fromkeys(names):
            if name not in self.accounts:
                known = ", ".join(self.accounts) or "none"
                where = f" in {self.path}" if self.path else ""
                raise InterfaceError(
                    f"no account named {name!r}{where}; the configured accounts are: {known}"
                )
            chosen.append(self.accounts[name])
        return chosen


def implicit_config() -> Config:
    """The configuration without a file: one `default` account from the usual variables."""
    default = AccountConfig(DEFAULT_ACCOUNT, env_fallback=True)
    return Config({DEFAULT_ACCOUNT: default}, (DEFAULT_ACCOUNT,))


def default_config_path() -> Path:
    """Where the config file is looked for when `$SQLPROVIDER_CONFIG` is not set."""
    if sys.platform == "win32":
        base = os.environ.get("APPDATA") or os.path.expanduser("~")
    elif sys.platform == "darwin":
        base = os.path.expanduser("~/Library/Application Support")
    else:
        base = os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
    return Path(base) / "sqlprovider" / "config.toml"


def load_config(source: str | Path | Mapping[str, Any] | None = None) -> Config:
    """Read the accounts from `source`: a mapping, a file, or (None) the usual file if any.

    Raises:
        InterfaceError: an unreadable or invalid file, a token in a file others can read, or
            `$SQLPROVIDER_CONFIG` naming a file that does not exist.
    """
    if isinstance(source, Mapping):
        return _parse(source, None)
    if source is None:
        named = os.environ.get(CONFIG_ENV, "").strip()
        if named:
            source = named
        else:
            path = default_config_path()
            return _read(path) if path.is_file() else implicit_config()
    path = Path(source).expanduser()
    if not path.is_file():
        raise InterfaceError(f"no config file at {path} (from {CONFIG_ENV} or config=)")
    return _read(path)


def _read(path: Path) -> Config:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InterfaceError(f"cannot read the config file {path}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InterfaceError(f"the config file {path} is not valid TOML: {exc}") from exc
    config = _parse(data, path)
    if any(account.token is not None for account in config.accounts.values()):
        _refuse_if_readable(path)
    return config


def _refuse_if_readable(path: Path) -> None:
    """Refuse a file holding a plain token that its group or others may read (ssh's rule)."""
    if os.name != "posix":
        return
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InterfaceError(
            f"the config file {path} holds a token and is readable by others (mode "
            f"{stat.S_IMODE(mode):o}); run `chmod 600 {path}`, or use token_env or "
            "token_command instead of token"
        )


def _parse(data: Mapping[str, Any], path: Path | None) -> Config:
    where = str(path) if path else "the config"
    accounts_table = data.get("accounts", {})
    if not isinstance(accounts_table, Mapping):
        raise InterfaceError(f"{where}: [accounts] must be a table of named accounts")
    unknown = set(data) - {"accounts", "default_accounts"}
    if unknown:
        raise InterfaceError(
            f"{where}: unknown key(s) {', '.join(sorted(unknown))}; "
            "expected [accounts.NAME] tables and default_accounts"
        )
    accounts: dict[str, AccountConfig] = {}
    for name, entry in accounts_table.items():
        accounts[str(name)] = _parse_account(str(name), entry, where)
    if not accounts:
        return implicit_config()
    default = data.get("default_accounts")
    if default is None:
        defaults = (DEFAULT_ACCOUNT,) if DEFAULT_ACCOUNT in accounts else tuple(accounts)[:1]
    elif isinstance(default, str):
        defaults = tuple(_split(default))
    elif isinstance(default, list) and all(isinstance(n, str) for n in default):
        defaults = tuple(default)
    else:
        raise InterfaceError(f"{where}: default_accounts must be a name or a list of names")
    config = Config(accounts, defaults, path)
    config.select(None)  # an unknown default fails here, naming the file
    return config


def _parse_account(name: str, entry: Any, where: str) -> AccountConfig:
    if not name or not all(c.isalnum() or c in "-_." for c in name):
        raise InterfaceError(
            f"{where}: account name {name!r} must be letters, digits, '-', '_' or '.'"
        )
    if not isinstance(entry, Mapping):
        raise InterfaceError(f"{where}: [accounts.{name}] must be a table")
    unknown = set(entry) - _ACCOUNT_KEYS
    if unknown:
        raise InterfaceError(
            f"{where}: [accounts.{name}] has unknown key(s) {', '.join(sorted(unknown))}; "
            f"expected {', '.join(sorted(_ACCOUNT_KEYS))}"
        )
    sources = [key for key in ("token", "token_env", "token_command") if key in entry]
    if len(sources) != 1:
        raise InterfaceError(
            f"{where}: [accounts.{name}] needs exactly one of token_env, token_command or "
            f"token (found {', '.join(sources) or 'none'})"
        )
    for key, value in entry.items():
        if key == "token" and isinstance(value, Token):
            continue
        if not isinstance(value, str) or not value.strip():
            raise InterfaceError(f"{where}: [accounts.{name}] {key} must be a non-empty string")
    command = entry.get("token_command")
    if command:
        import shlex  # only a config file's token_command needs it
    token = entry.get("token")
    return AccountConfig(
        name=name,
        api_url=entry.get("api_url"),
        token=token if isinstance(token, Token) or token is None else Token(token),
        token_env=entry.get("token_env"),
        token_command=tuple(shlex.split(command)) if command else None,
    )


def _run_token_command(account: str, argv: tuple[str, ...]) -> Token:
    """Run `argv` (no shell) and take its stdout as the token; remembered for the process."""
    with _command_lock:
        known = _command_tokens.get(argv)
        if known is not None:
            return known
        import subprocess  # here: only a token_command needs it, and it costs every start

        try:
            done = subprocess.run(  # noqa: S603 - argv from the user's own config, no shell
                list(argv),
                capture_output=True,
                timeout=TOKEN_COMMAND_TIMEOUT,
                check=False,
                stdin=subprocess.DEVNULL,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            # Neither the output nor the exception text (it may quote the output) is shown.
            raise InterfaceError(
                f"account {account!r}: its token_command {argv[0]!r} could not run "
                f"({type(exc).__name__})"
            ) from None
        if done.returncode != 0:
            raise InterfaceError(
                f"account {account!r}: its token_command {argv[0]!r} exited with status "
                f"{done.returncode}"
            )
        value = done.stdout.decode("utf-8", "replace").strip()
        if not value or "\n" in value:
            raise InterfaceError(
                f"account {account!r}: its token_command {argv[0]!r} printed "
                f"{'nothing' if not value else 'more than one line'}; it must print the token"
            )
        _command_tokens[argv] = Token(value)
        return _command_tokens[argv]


def _split(names: str) -> list[str]:
    return [name.strip() for name in names.split(",") if name.strip()]


class Account(Record):
    """One account as a connection uses it: the value every row's `account` column names.

    Attributes:
        name: the account's name.
        api_url: its base URL.
        client: HTTP access with its token (the token's own pacer and cache keys).
        problem: why its token did not resolve, when the connection skips failing accounts.
    """

    name: str
    api_url: str
    client: ApiClient
    problem: str | None = None

    @property
    def token(self) -> Token | None:
        """The token (masked: only `reveal()` shows it)."""
        return self.client.token

    def __repr__(self) -> str:
        return f"Account({self.name!r}, {self.api_url!r}, token={self.token!r})"
