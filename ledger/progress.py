"""A small progress line for long work on a terminal (silent elsewhere)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressLine:
    """Rewrites one stderr line at most ten times a second; no-op when not a TTY."""

    def __init__(self, label: str, total: int | None = None, stream: TextIO | None = None) -> None:
        self.label, self.total = label, total
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self._last = 0.0
        self._started = time.monotonic()

    def __call__(self, done: int) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self._last < 0.1 and done != self.total):
            return
        self._last = now
        rate = done / max(now - self._started, 1e-9)
        if self.total:
            width = 30
            filled = min(width, width * done // max(self.total, 1))
            bar = "#" * filled + "-" * (width - filled)
            text = f"{self.label} [{bar}] {done}/{self.total} ({rate:,.0f}/s)"
        else:
            text = f"{self.label} {done} ({rate:,.0f}/s)"
        self.stream.write("\r" + text)
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
