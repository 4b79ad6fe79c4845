"""`ConnectOptions`: every connection setting, declared once with its type, check and help.

`sqlprovider.connect()`, `sqlprovider.attach()`, the CLI's connection flags and the SQLAlchemy
URL's query parameters are all built from the fields below, so a setting has one default, one
validation rule and one sentence of documentation. Adding a setting is one `option(...)` line
here; the entry points pick it up (a CLI flag `--name-with-dashes` and a URL parameter
`?name_with_underscores=` unless the field says otherwise), and the engine reads it from the
`ConnectOptions` it is given.

A bad value raises `OptionError` naming the setting as the caller knows it: `max_concurrency`
from `connect()`, `--max-concurrency` from the CLI, `?max_concurrency=` from a URL.
Imports `errors` and `http` (the token type and the defaults of its bounds) only.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from sqlprovider.errors import InterfaceError
from sqlprovider.http.auth import Token
from sqlprovider.http.client import DEFAULT_MAX_RESPONSE_BYTES
from sqlprovider.http.waits import DEFAULT_MAX_WAIT

#: A check returns what is wrong with a value (completing "`name` ..."), or None when it is fine.
Check = Callable[[Any], "str | None"]


class OptionError(InterfaceError):
    """A connection setting has a bad value or an unknown name.

    Attributes:
        option: the field name (`max_concurrency`).
        problem: what is wrong, worded to follow the setting's name ("must be at least 1").
    """

    def __init__(self, option: str, problem: str, label: str | None = None) -> None:
        self.option = option
        self.problem = problem
        super().__init__(f"{label or option} {problem}")

    def renamed(self, label: str) -> OptionError:
        """The same error, naming the setting as `label` (a CLI flag, a URL parameter)."""
        return OptionError(self.option, self.problem, label)


def parse_flag(text: str) -> bool:
    """`true/false`, `1/0`, `yes/no`, `on/off` (any case) as a bool."""
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"expected true or false, got {text!r}")


def at_least(minimum: float) -> Check:
    """A check: the value is `minimum` or more."""

    def check(value: Any) -> str | None:
        return None if value >= minimum else f"must be at least {minimum:g} (got {value!r})"

    return check


def more_than(minimum: float) -> Check:
    """A check: the value is greater than `minimum`."""

    def check(value: Any) -> str | None:
        return None if value > minimum else f"must be more than {minimum:g} (got {value!r})"

    return check


def one_of(*choices: str) -> Check:
    """A check: the value is one of `choices`."""

    def check(value: Any) -> str | None:
        return None if value in choices else f"must be one of {', '.join(choices)} (got {value!r})"

    return check


class Setting:
    """One declared setting of `ConnectOptions`: its name, default and rules (`metadata`).

    `ConnectOptions` is a plain frozen class rather than a dataclass: generating a dataclass's
    methods imports `inspect` (with `ast`, `dis`, `tokenize`), a tenth of the CLI's start.

    Attributes:
        name: the setting's name (set when `ConnectOptions` is built).
        default: its value when nobody sets it.
        metadata: doc, kind, parse, check, cli, url, choices, metavar and normalize (see `option`).
        repr: whether its value may be shown (False for the token and config).
    """

    __slots__ = ("default", "metadata", "name", "repr")

    def __init__(self, default: Any, metadata: Mapping[str, Any], *, shown: bool) -> None:
        self.name = ""
        self.default = default
        self.metadata = metadata
        self.repr = shown


def option(
    default: Any,
    doc: str,
    *,
    kind: type | tuple[type, ...] | None = None,
    parse: Callable[[str], Any] | None = None,
    check: Check | None = None,
    cli: bool = True,
    url: bool = True,
    choices: tuple[str, ...] = (),
    metavar: str | None = None,
    secret: bool = False,
    normalize: Callable[[Any], Any] | None = None,
) -> Any:
    """Declare one connection setting (a `Setting` carrying its own rules).

    Args:
        default: the value when nobody sets it.
        doc: one sentence for `help`, `--help` and the docs.
        kind: accepted Python type(s); default: the type of `default` (float also takes int).
        parse: turns command-line or URL text into the value; default: `kind` itself.
        check: what else the value must satisfy (see `at_least`, `more_than`, `one_of`).
        cli: offer it as `--name-with-dashes` on every command that connects.
        url: accept it as a SQLAlchemy URL query parameter.
        choices: the values a text setting allows (also shown by `--help`).
        metavar: the placeholder `--help` shows.
        secret: never shown in a repr (the token).
        normalize: turns an accepted value into its stored form (a Path into text).
    """
    if kind is None:
        kind = (int, float) if isinstance(default, float) else type(default)
    if parse is None:
        base = kind[-1] if isinstance(kind, tuple) else kind
        parse = parse_flag if base is bool else base
    if choices and check is None:
        check = one_of(*choices)
    metadata = {
        "doc": doc,
        "kind": kind,
        "parse": parse,
        "check": check,
        "cli": cli,
        "url": url,
        "choices": choices,
        "metavar": metavar,
        "normalize": normalize,
    }
    return Setting(default, metadata, shown=not secret)


def _windows_problem(windows: Any) -> str | None:
    if windows is None:
        return None
    for window in windows:
        if (
            not isinstance(window, (tuple, list))
            or len(window) != 2
            or not all(isinstance(n, (int, float)) and not isinstance(n, bool) for n in window)
            or window[0] < 1
            or window[1] <= 0
        ):
            return f"must be (requests >= 1, seconds > 0) pairs, not {window!r}"
    return None


class ConnectOptions:
    """How a connection reaches the API; every entry point builds one of these.

    Build it with keyword arguments (`ConnectOptions(max_concurrency=4)`) or from a mapping
    with `ConnectOptions.from_values`, which also rejects unknown names; either way each value
    is checked. `replace(**changes)` returns a checked copy. The settings are listed below.
    """

    token: str | Token | None = option(
        None,
        "API token; else $DIGITALOCEAN_TOKEN, else $DIGITALOCEAN_ACCESS_TOKEN.",
        kind=(str, Token, type(None)),
        parse=str,
        cli=False,  # the CLI has its own token flags (--token, --token-file, --token-prompt)
        secret=True,
    )
    api_url: str | None = option(
        None,
        "API base URL; else $DIGITALOCEAN_API_URL, else https://api.digitalocean.com.",
        kind=(str, type(None)),
        parse=str,
        metavar="URL",
    )
    max_concurrency: int = option(
        16, "Parallel API requests per statement.", check=at_least(1), metavar="N"
    )
    cache_ttl: float = option(
        0.0,
        "Seconds a response may be reused by later statements (0: never); the rows built "
        "from a reused page are kept too (up to 250,000 per connection), so a repeated scan "
        "does not build them again.",
        check=at_least(0),
        metavar="SECONDS",
    )
    reuse_bytes: int = option(
        32 * 1024 * 1024,
        "Bytes of unkeyed list pages one statement keeps to answer its repeated scans (a join "
        "scans the inner list once per outer row); past it, pages are read again and the "
        "statement's stats count reuse_dropped.",
        check=at_least(0),
        metavar="BYTES",
    )
    timeout: float = option(
        30.0,
        "Seconds to wait for the API to connect or answer one request.",
        check=more_than(0),
        metavar="SECONDS",
    )
    retries: int = option(
        5,
        "Retries of a failing request (429, 5xx, a refused or dropped connection) before the "
        "statement fails.",
        check=at_least(0),
        metavar="N",
    )
    backoff: float = option(
        0.5,
        "First wait between retries, in seconds (doubles per retry, with jitter).",
        check=at_least(0),
        metavar="SECONDS",
    )
    max_wait: float = option(
        DEFAULT_MAX_WAIT,
        "Seconds one statement may spend waiting for the rate limit and between retries, in "
        "all; a wait past it fails the statement at once, naming when the API's budget reopens.",
        check=at_least(0),
        metavar="SECONDS",
    )
    max_response_bytes: int = option(
        DEFAULT_MAX_RESPONSE_BYTES,
        "Largest decoded body of one API answer, in bytes; a larger one is an error, never "
        "truncated (a page of 200 Droplets is about 1 MiB).",
        check=at_least(1024),
        metavar="BYTES",
    )
    rate_limits: tuple[tuple[int, float], ...] | None = option(
        None,
        "(requests, seconds) windows kept per token and API URL across the process; default: "
        "the provider's (DigitalOcean: 250 a minute and 5,000 an hour).",
        kind=(tuple, list, type(None)),
        check=_windows_problem,
        normalize=lambda v: tuple((int(w[0]), float(w[1])) for w in v),
        cli=False,
        url=False,
    )
    allow_http: bool = option(False, "Allow plain http to a host that is not loopback.")
    spec_dir: str | None = option(
        None,
        "Another provider_spec folder (default: the one shipped in the package).",
        kind=(str, os.PathLike, type(None)),
        normalize=os.fspath,
        parse=str,
        metavar="DIR",
    )
    allow_writes: bool = option(
        False,
        "Let UPDATE and INSERT change the account (refused otherwise; see --dry-run).",
    )
    dry_run: bool = option(
        False,
        "Run writes without sending them: their exact calls land in sqlprovider_changes "
        "(and on stderr in the CLI).",
    )
    wait: bool = option(
        False, "After a write, poll its actions until each is completed or errored."
    )
    wait_timeout: float = option(
        300.0,
        "The most seconds a write waits for its actions (with wait).",
        check=more_than(0),
        metavar="SECONDS",
    )

    accounts: str | tuple[str, ...] | None = option(
        None,
        "Configured accounts to read: names (a list, or 'a,b'), or '*' for every one; else the "
        "config's default_accounts, else 'default'.",
        kind=(str, tuple, list, type(None)),
        parse=str,
        cli=False,  # the CLI has --account NAME (repeatable) and --all-accounts
        normalize=lambda v: v if isinstance(v, str) else tuple(str(n) for n in v),
        metavar="NAMES",
    )
    config: str | Mapping[str, Any] | None = option(
        None,
        "Config file naming the accounts (or its content as a mapping); else "
        "$SQLPROVIDER_CONFIG, else the user config folder's sqlprovider/config.toml.",
        kind=(str, os.PathLike, Mapping, type(None)),
        parse=str,
        normalize=lambda v: os.fspath(v) if isinstance(v, os.PathLike) else v,
        metavar="FILE",
        secret=True,  # a mapping may hold tokens
    )
    on_account_error: str = option(
        "fail",
        "What a failing account does: fail the statement (naming it), or skip it and return "
        "the other accounts' rows, recording the failure.",
        choices=("fail", "skip"),
        cli=False,  # the CLI has --skip-failed-accounts
    )

    def __init__(self, **values: Any) -> None:
        unknown = set(values) - {item.name for item in _SETTINGS}
        if unknown:
            raise TypeError(f"ConnectOptions() got an unexpected argument {min(unknown)!r}")
        state = {item.name: values.get(item.name, item.default) for item in _SETTINGS}
        object.__setattr__(self, "__dict__", state)
        for item in _SETTINGS:
            value = state[item.name]
            kind = item.metadata["kind"]
            if isinstance(value, bool) and bool not in _as_tuple(kind):
                raise OptionError(item.name, f"must be {_kind_name(kind)}, not {value!r}")
            if not isinstance(value, kind):
                shown = repr(value) if item.repr else f"a {type(value).__name__}"
                raise OptionError(item.name, f"must be {_kind_name(kind)}, not {shown}")
            check = item.metadata["check"]
            problem = check(value) if check is not None and value is not None else None
            if problem:
                raise OptionError(item.name, problem)
            if item.metadata["normalize"] is not None and value is not None:
                state[item.name] = item.metadata["normalize"](value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"ConnectOptions are frozen: use replace({name}=...) for a copy")

    def __repr__(self) -> str:
        shown = ", ".join(f"{i.name}={getattr(self, i.name)!r}" for i in _SETTINGS if i.repr)
        return f"ConnectOptions({shown})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ConnectOptions):
            return NotImplemented
        return self._compared() == other._compared()

    def __hash__(self) -> int:
        return hash(self._compared())

    def _compared(self) -> tuple[Any, ...]:
        # The secret settings are left out, as they are of the repr.
        return tuple(getattr(self, i.name) for i in _SETTINGS if i.repr)

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> ConnectOptions:
        """Options from a mapping of names to values, refusing a name that is not a setting.

        Raises:
            OptionError: an unknown name (with the closest known ones) or a bad value.
        """
        known = names()
        listing = ", ".join(known)
        for name in values:
            if name not in known:
                import difflib  # only a wrong name needs it

                close = difflib.get_close_matches(name, known, n=2)
                hint = f"did you mean {' or '.join(close)}?" if close else f"known: {listing}"
                raise OptionError(name, f"is not a connection option; {hint}")
        return cls(**values)

    def replace(self, **changes: Any) -> ConnectOptions:
        """A checked copy with `changes` applied."""
        return ConnectOptions.from_values({**self.as_dict(), **changes})

    def as_dict(self) -> dict[str, Any]:
        """Every setting by name (holds the token, so never log this)."""
        return {item.name: getattr(self, item.name) for item in _SETTINGS}


def _declared(cls: type) -> tuple[Setting, ...]:
    """The `Setting`s of `cls` in declaration order, each told its name."""
    found = []
    for name, value in vars(cls).items():
        if isinstance(value, Setting):
            value.name = name
            found.append(value)
    return tuple(found)


_SETTINGS = _declared(ConnectOptions)


def fields() -> tuple[Setting, ...]:
    """The settings in declaration order (each one's metadata holds its rules)."""
    return _SETTINGS


def names() -> list[str]:
    """The setting names."""
    return [item.name for item in fields()]


def parse_text(name: str, text: str) -> Any:
    """The value of setting `name` written as text (a CLI or URL argument).

    Raises:
        OptionError: an unknown setting, or text that is not a value of its type.
    """
    by_name = {item.name: item for item in fields()}
    if name not in by_name:
        raise OptionError(name, "is not a connection option")
    item = by_name[name]
    try:
        return item.metadata["parse"](text)
    except ValueError as exc:
        kind = _kind_name(item.metadata["kind"])
        raise OptionError(name, f"must be {kind}, not {text!r}") from exc


def describe() -> str:
    """One line per setting, `name (default): doc`, for docstrings and documentation."""
    lines = []
    for item in fields():
        default = "unset" if item.default is None else repr(item.default)
        lines.append(f"    {item.name} (default {default}): {item.metadata['doc']}")
    return "\n".join(lines)


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    words = {
        int: "an integer",
        float: "a number",
        bool: "true or false",
        str: "text",
        tuple: "a sequence",
        os.PathLike: "a path",
        type(None): "unset (None)",
    }
    kinds = [k for k in _as_tuple(kind) if k not in (list, Token)]
    if float in kinds and int in kinds:
        kinds.remove(int)
    return " or ".join(words.get(k, k.__name__) for k in kinds)


ConnectOptions.__doc__ = f"{ConnectOptions.__doc__}\n{describe()}\n"
