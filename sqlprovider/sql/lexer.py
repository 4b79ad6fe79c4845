"""Split SQLite text into the few token kinds that name rewriting needs, in one cheap pass.

Finding `digitalocean.compute.droplets` only needs to know what is a name, a dot, a string or a
comment; everything else is "other". A full SQL tokenizer (sqlglot's) costs a quarter of a
second to import on the first statement of a process, so this module does the little that is
needed with one regular expression, following SQLite's lexical rules
(https://sqlite.org/lang_keywords.html): names may be bare or quoted with "", ``, or [];
a doubled quote inside a quoted name or string is one quote character; an unclosed string,
quoted name or block comment runs to the end of the text. Imports nothing of the project.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Literal, NamedTuple

Kind = Literal["name", "dot", "other"]

#: Alternatives in priority order; each match is one token (or skipped text).
_TOKEN = re.compile(
    r"""
      (?P<space>\s+)
    | (?P<line_comment>--[^\n]*)
    | (?P<block_comment>/\*(?:.|\n)*?(?:\*/|\Z))
    | (?P<string>'(?:[^']|'')*(?:'|\Z))
    | (?P<double>"(?:[^"]|"")*(?:"|\Z))
    | (?P<backtick>`(?:[^`]|``)*(?:`|\Z))
    | (?P<bracket>\[[^\]]*(?:\]|\Z))
    | (?P<bare>[^\W\d][\w$]*)
    | (?P<number>\d[\w.]*|\.\d[\w]*)
    | (?P<dot>\.)
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)

_SKIPPED = frozenset({"space", "line_comment", "block_comment"})


class Token(NamedTuple):
    """One token: its kind, the name it spells (quotes removed, for names), and its span."""

    kind: Kind
    text: str
    start: int
    end: int


def tokens(sql: str) -> Iterator[Token]:
    """Yield the name, dot and other tokens of `sql`; whitespace and comments are skipped.

    A string literal is one "other" token, so names inside it are never seen:

        >>> [t.text for t in tokens("SELECT 'a.b' FROM x.y")]
        ['SELECT', "'a.b'", 'FROM', 'x', '.', 'y']
    """
    for match in _TOKEN.finditer(sql):
        group = match.lastgroup
        if group in _SKIPPED:
            continue
        raw = match.group()
        if group == "bare":
            yield Token("name", raw, match.start(), match.end())
        elif group in ("double", "backtick") and _is_closed(raw):
            quote = raw[0]
            yield Token("name", raw[1:-1].replace(quote * 2, quote), match.start(), match.end())
        elif group == "bracket" and raw.endswith("]"):
            yield Token("name", raw[1:-1], match.start(), match.end())
        elif group == "dot":
            yield Token("dot", raw, match.start(), match.end())
        else:
            yield Token("other", raw, match.start(), match.end())


def _is_closed(quoted: str) -> bool:
    """Whether a quoted name ends with its quote (and is not just an unclosed opening)."""
    return len(quoted) >= 2 and quoted.endswith(quoted[0]) and not _ends_escaped(quoted)


def _ends_escaped(quoted: str) -> bool:
    """A name like `"a""` whose last quote is half of an escaped pair, so it is unclosed."""
    body = quoted[1:]
    run = len(body) - len(body.rstrip(quoted[0]))
    return run % 2 == 0
