"""UTBMS litigation code set (ABA/LEDES): task, activity and expense codes.

Matters with UTBMS coding on must give a known task and activity code for each
time entry and a known expense code for each expense.
"""

from __future__ import annotations

from typing import Final

TASK_CODES: Final = frozenset(
    {"L100", "L110", "L120", "L130", "L140", "L150", "L160", "L190",
     "L200", "L210", "L220", "L230", "L240", "L250",
     "L300", "L310", "L320", "L330", "L340", "L350", "L390",
     "L400", "L410", "L420", "L430", "L440", "L450", "L460", "L470",
     "L500", "L510", "L520", "L530"}
)
ACTIVITY_CODES: Final = frozenset(f"A{n}" for n in range(101, 112))
EXPENSE_CODES: Final = frozenset(f"E{n}" for n in range(101, 125))
