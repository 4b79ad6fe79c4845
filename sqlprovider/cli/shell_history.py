"""The shell's history without the token: lines holding a secret never stay in it.

readline keeps every line typed, and the history file outlives the session; a token pasted into
a statement (or a `.open` URL) must leave neither. The shell drops such a line from readline as
soon as it is read and scrubs the file when the session ends, keeping the file private. Imports
nothing of the package.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType


def forget_secret_entries(readline: ModuleType, secrets: Iterable[str]) -> int:
    """Remove every readline history entry holding one of `secrets`; return how many."""
    secrets = tuple(secrets)
    removed = 0
    for index in range(readline.get_current_history_length(), 0, -1):  # 1-based, newest first
        item = readline.get_history_item(index)
        if item is not None and holds_secret(item, secrets):
            readline.remove_history_item(index - 1)  # 0-based
            removed += 1
    return removed


def scrub_history_file(path: Path, secrets: Iterable[str]) -> None:
    """Drop lines holding a secret from a history file, and keep the file private."""
    secrets = tuple(secrets)
    if not path.is_file():
        return
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)
    kept = [line for line in lines if not holds_secret(line, secrets)]
    if kept != lines:
        path.write_text("".join(kept), encoding="utf-8")
    with contextlib.suppress(OSError):
        path.chmod(0o600)


def holds_secret(text: str, secrets: Iterable[str]) -> bool:
    """Whether `text` contains one of `secrets` (an empty secret matches nothing)."""
    return any(secret and secret in text for secret in secrets)
