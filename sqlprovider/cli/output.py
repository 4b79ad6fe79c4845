"""Render a result (column names and rows) as table, csv, json, jsonl or markdown text."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Sequence
from typing import Any

Rows = Sequence[Sequence[Any]]

FORMATS = ("table", "csv", "json", "jsonl", "markdown")


def render(fmt: str, columns: Sequence[str], rows: Rows) -> str:
    """The whole result in format `fmt` (one of `FORMATS`)."""
    return _RENDERERS[fmt](columns, rows)


def _cell(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _table(columns: Sequence[str], rows: Rows) -> str:
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"

    def line(values: Sequence[str], numeric: Sequence[bool]) -> str:
        padded = [
            v.rjust(w) if n else v.ljust(w) for v, w, n in zip(values, widths, numeric, strict=True)
        ]
        return "| " + " | ".join(padded) + " |"

    out = [rule, line(list(columns), [False] * len(columns)), rule]
    for row, raw in zip(cells, rows, strict=True):
        out.append(
            line(row, [isinstance(v, (int, float)) and not isinstance(v, bool) for v in raw])
        )
    out.append(rule)
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out) + "\n"


def _csv(columns: Sequence[str], rows: Rows) -> str:
    import csv  # only this format needs it

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    return buffer.getvalue()


def _json(columns: Sequence[str], rows: Rows) -> str:
    return (
        json.dumps([dict(zip(columns, row, strict=True)) for row in rows], indent=2, default=_cell)
        + "\n"
    )


def _jsonl(columns: Sequence[str], rows: Rows) -> str:
    return "".join(
        json.dumps(dict(zip(columns, row, strict=True)), default=_cell) + "\n" for row in rows
    )


def _markdown(columns: Sequence[str], rows: Rows) -> str:
    def escape(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    out = ["| " + " | ".join(escape(c) for c in columns) + " |", "|" + "---|" * len(columns)]
    out += ["| " + " | ".join(escape(_cell(v)) for v in row) + " |" for row in rows]
    return "\n".join(out) + "\n"


_RENDERERS: dict[str, Callable[[Sequence[str], Rows], str]] = {
    "table": _table,
    "csv": _csv,
    "json": _json,
    "jsonl": _jsonl,
    "markdown": _markdown,
}
