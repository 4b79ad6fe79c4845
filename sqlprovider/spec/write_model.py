"""The write vocabulary of the spec as frozen records: what an UPDATE or INSERT sends, per row.

A resource's `writes:` entry becomes a `Write`: the request (`Operation`, shared with reads), the
transitions that choose a call for each row change, the checks made before sending, and how a
lost answer is confirmed and a created record followed. No I/O. Imports only `spec.model` and
`spec.record`.
"""

from __future__ import annotations

from typing import Any, Literal

from sqlprovider.spec.model import Operation
from sqlprovider.spec.record import Record


class Check(Record):
    """A value a write sends must be one that another table lists (checked before sending).

    Attributes:
        column: the column of this resource whose value is checked.
        table: the qualified name of the table that lists the allowed values.
        values: its column holding them: one value per row, or a JSON array per row.
        match: ``(their column, our column)`` pairs: only rows that agree with our row count,
            so the hours allowed depend on the plan chosen.
    """

    column: str
    table: str
    values: str
    match: tuple[tuple[str, str], ...] = ()


class Transition(Record):
    """Which call a row change sends: conditions on the row before and after, and a body.

    Attributes:
        action: the name of the change, as `sqlprovider_changes` shows it.
        before: ``(column, value)`` pairs the old row must hold (UPDATE only).
        after: ``(column, value)`` pairs the new row must hold.
        changed: when not empty, at least one of these columns must differ from the old row.
        body: the JSON body; a string ``$column`` stands for the new row's value, NULL values
            and objects left empty are dropped.
    """

    action: str
    before: tuple[tuple[str, Any], ...]
    after: tuple[tuple[str, Any], ...]
    changed: tuple[str, ...]
    body: Any


class Confirm(Record):
    """How to learn whether a write whose answer was lost (5xx, timeout, reset) was carried out.

    Attributes:
        path: a list of the records the write creates, with ``{column}`` placeholders.
        records: where the records sit in its answer.
        match: a field both the request body and a record hold (such as the action type).
        started: the record's ISO 8601 start time: only records started after the first
            attempt count as ours.
    """

    path: str
    records: tuple[str, ...]
    match: str
    started: str


class Wait(Record):
    """How to follow a created record until it is finished (``wait=True``).

    Attributes:
        path: the record's own URL, with ``{id}`` for its id.
        records: where the record sits in the answer.
        status: its status field; `done` and `failed` list the final values.
    """

    path: str
    records: tuple[str, ...]
    status: str
    done: tuple[str, ...]
    failed: tuple[str, ...]


class Write(Record):
    """What one SQL write statement (UPDATE or INSERT) on a resource sends, per row.

    Attributes:
        sql_verb: ``UPDATE`` (changes rows it reads) or ``INSERT`` (creates from given values).
        operation: the request; its path placeholders are filled from the row.
        settable: columns a statement may set (UPDATE) or give (INSERT); others are refused.
        required: columns an INSERT must give.
        transitions: tried in order; the first that matches the row change is sent, and a
            row that matches none is already as asked (nothing is sent for it).
        checks: values validated against other tables before anything is sent.
        answer_id: field of the created record that identifies it (its id).
        confirm: how to tell whether a lost answer hid a write that happened.
        wait: how to follow the created record until it finishes.
        makes_stale: path prefixes of cached reads that a write makes out of date.
    """

    sql_verb: Literal["INSERT", "UPDATE"]
    operation: Operation
    settable: tuple[str, ...]
    required: tuple[str, ...]
    transitions: tuple[Transition, ...]
    checks: tuple[Check, ...] = ()
    answer_id: str = "id"
    confirm: Confirm | None = None
    wait: Wait | None = None
    makes_stale: tuple[str, ...] = ()
