"""The harness's files: the run description and each writer's journal.

A writer's journal is a JSON-lines file, appended with flush + fsync:

* ``intent``  before a command is sent: step, principal, key, command, payload;
* ``ack``     after the call returned a result (``repeat_of`` when it re-sent an
  earlier acknowledged command on purpose);
* ``refused`` after the call raised a ``LedgerError`` (its ``type`` slug);
* ``unknown`` when the retries were exhausted without an answer;
* ``unexpected`` when the call raised something that is neither a refusal nor a
  lost connection (a bug).

A replacement writer (after a SIGKILL) truncates a torn last line, rebuilds its
state from the acknowledged results and first re-sends the pending intent, if
any, with the same key: that is what makes "exactly once" checkable.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Record = dict[str, Any]


@dataclass(frozen=True)
class Fixture:
    """What the set-up recorded before the writers start (ids as strings)."""

    url: str
    firm: str
    seed: int
    deadline: float
    currency: str
    timekeepers: list[str]
    clients: list[str]
    matters: dict[str, str]  # hourly matter id -> its client id
    closed_matter: str
    trust_account: str  # the firm's trust bank account

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.__dict__, indent=2))

    @classmethod
    def load(cls, path: Path) -> Fixture:
        return cls(**json.loads(path.read_text()))


def journal_path(workdir: Path, writer: int) -> Path:
    return workdir / f"writer-{writer}.jsonl"


def read_journal(path: Path) -> list[Record]:
    """Every complete line (a torn last line from a SIGKILL is ignored)."""
    if not path.exists():
        return []
    records: list[Record] = []
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


def repair_tail(path: Path) -> None:
    """Cut a torn last line so that the next append starts on a line of its own."""
    if not path.exists():
        return
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        with path.open("r+b") as f:
            f.truncate(data.rfind(b"\n") + 1)


@dataclass
class Journal:
    path: Path
    _fd: int = field(init=False, default=-1)

    def __post_init__(self) -> None:
        repair_tail(self.path)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def append(self, record: Record) -> None:
        data = (json.dumps(record, sort_keys=True) + "\n").encode()
        os.write(self._fd, data)
        os.fsync(self._fd)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
