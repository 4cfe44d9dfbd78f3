"""Webhook test helpers: the README's receiver snippet as written, the log's positions."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ledger.store.firm import FirmStore

README = Path(__file__).parents[2] / "ledger" / "subscribers" / "README.md"


def documented_verifier() -> Callable[[str, bytes, str, str], bool]:
    """The exact snippet the README gives receivers, executed as written."""
    text = README.read_text()
    block = re.search(r"<!-- verify-snippet -->\n```python\n(.*?)```", text, re.S)
    assert block, "the README must hold the verification snippet"
    namespace: dict[str, Any] = {}
    exec(compile(block.group(1), "README-snippet", "exec"), namespace)
    verifier: Callable[[str, bytes, str, str], bool] = namespace["verify_ledger_signature"]
    return verifier


def log_positions(store: FirmStore) -> list[int]:
    with store.location.connect() as conn:
        return [r[0] for r in conn.execute(
            f'SELECT notification_id FROM "{store.schema}".events ORDER BY 1').fetchall()]
