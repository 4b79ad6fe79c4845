"""The write workflow of docs/writes.md runs as written (find, preview, apply, wait, verify)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "writes.md"


def test_the_documented_workflow_runs(capsys: pytest.CaptureFixture[str]) -> None:
    block = re.search(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert block is not None
    exec(compile(block.group(1), str(DOC), "exec"), {})  # noqa: S102 - our own documentation
    out = capsys.readouterr().out
    assert "rows would change" in out
    assert "'completed')" in out
