"""Every exception sqlprovider raises, arranged under the PEP 249 names.

This module is a leaf: it imports nothing from sqlprovider, and every other module may import it.

```
Warning
Error
├── InterfaceError                  misuse: closed cursor, bad connect() argument, thread misuse
│   └── SpecError                   an invalid provider_spec/ file; lists every problem found
└── DatabaseError
    ├── ProgrammingError            bad SQL, unknown table or column
    │   ├── MissingKeyColumnError   a required key column has no value in WHERE or ON
    │   └── InvalidParameterError   a key value the API would reject (checked before sending)
    ├── NotSupportedError           writes; what a read-only driver cannot do
    ├── DataError                   an API value does not fit its declared type
    ├── IntegrityError              (PEP 249 name; raised by plain SQLite tables only)
    ├── InternalError               (PEP 249 name; an unexpected SQLite failure)
    └── OperationalError            the API could not answer
        ├── ApiError                .status .method .url (never the token) .request_id
        │   ├── AuthenticationError 401 / 403, or no token at all
        │   ├── NotFoundError       404 (a per-parent list or get turns it into zero rows)
        │   ├── RateLimitError      429 still failing after retries
        │   ├── ServiceError        5xx, dropped connection or timeout, still failing after retries
        │   └── ResponseError       a body that is not the promised JSON (truncated, HTML...)
        ├── ListChangedError        a paginated list changed while it was being read
        └── WriteError              some calls of a write failed: .changes says which changed
```

Messages say what is wrong and what to do next. None of them ever contains the API token: the
HTTP layer builds them from the method, the path and the response body only.
"""

from __future__ import annotations


class Warning(Exception):  # noqa: A001 - the name is fixed by PEP 249
    """An important warning, such as a truncated result (PEP 249)."""


class Error(Exception):
    """Base class of every sqlprovider error (PEP 249)."""


class InterfaceError(Error):
    """The driver was used wrongly: a closed cursor, a bad argument, a shared connection."""


class SpecError(InterfaceError):
    """One or more provider_spec/ files are invalid; the message lists every problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"provider_spec is invalid ({len(self.problems)} problem(s)):\n{lines}")


class DatabaseError(Error):
    """An error about the data or the service behind it (PEP 249)."""


class ProgrammingError(DatabaseError):
    """The statement cannot run as written: bad SQL, unknown table or column."""


class MissingKeyColumnError(ProgrammingError):
    """A table needs a key column (such as droplet_id) that the statement never supplies."""

    def __init__(self, message: str, *, table: str, column: str) -> None:
        super().__init__(message)
        self.table = table
        self.column = column


class InvalidParameterError(ProgrammingError):
    """A value for an API parameter would be rejected by the API, so nothing was sent."""

    def __init__(self, message: str, *, table: str, column: str) -> None:
        super().__init__(message)
        self.table = table
        self.column = column


class NotSupportedError(DatabaseError):
    """The statement asks for something a read-only API driver cannot do."""


class DataError(DatabaseError):
    """A value from the API does not fit the type its column declares."""


class IntegrityError(DatabaseError):
    """A constraint of a plain SQLite table failed (PEP 249 name)."""


class InternalError(DatabaseError):
    """SQLite failed in an unexpected way (PEP 249 name)."""


class OperationalError(DatabaseError):
    """The API could not give a complete answer; no partial result was returned."""


class ApiError(OperationalError):
    """The API answered with an error, or not at all.

    Attributes:
        status: HTTP status code, or None when no response arrived.
        method: HTTP method of the failing request.
        url: the request URL without credentials (tokens never travel in URLs here).
        request_id: DigitalOcean's request id from the error body, when it sent one.
        api_id: the short error id from the body, such as ``not_found``.
        api_message: the body's own message, such as "Backups are not supported ...".
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None,
        method: str,
        url: str,
        request_id: str | None = None,
        api_id: str | None = None,
        api_message: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.method = method
        self.url = url
        self.request_id = request_id
        self.api_id = api_id
        self.api_message = api_message


class AuthenticationError(ApiError):
    """The API refused the token (401) or its scopes (403)."""


class NotFoundError(ApiError):
    """The API has no such object (404)."""


class RateLimitError(ApiError):
    """The API kept answering 429 after every retry allowed."""


class ServiceError(ApiError):
    """The API kept failing (5xx, dropped connections, timeouts) after every retry allowed."""


class ResponseError(ApiError):
    """The API's body was not the JSON it promises (truncated, not JSON, wrong shape)."""


class ListChangedError(OperationalError):
    """A paginated list changed between two of its pages, so the rows read may be inconsistent."""


class WriteError(OperationalError):
    """A write was not carried out in full: some calls failed, were unknown or not sent.

    Attributes:
        changes: one entry per planned call, as in ``sqlprovider_changes``: a mapping with
            ``key``, ``action``, ``status``, ``action_id`` and ``error``.
    """

    def __init__(self, message: str, changes: list[dict[str, object]]) -> None:
        super().__init__(message)
        self.changes = changes
