"""A matter copied out of the aggregate cache is independent of the cached one."""

from __future__ import annotations

from copy import deepcopy
from datetime import date
from uuid import uuid4

from ledger.domain.events import Arrangement
from ledger.domain.matter import Matter


def _matter() -> Matter:
    matter = Matter.open(matter_id=uuid4(), actor="a", effective_on=date(2024, 1, 1),
                         client_id=uuid4(), currency="USD", utbms=False,
                         arrangement=Arrangement(kind="hourly", increment_minutes=6),
                         title="T")
    matter.set_rate(actor="a", effective_on=date(2024, 1, 1), timekeeper_id="AB",
                    rate_minor_per_hour=100)
    matter.log_time(actor="a", entry_id=uuid4(), timekeeper_id="AB", work_on=date(2024, 1, 2),
                    minutes=30, task_code=None, activity_code=None, billable=True,
                    narrative="n")
    matter.collect_events()
    return matter


def test_a_copy_changes_without_touching_the_original() -> None:
    original = _matter()
    before = {k: deepcopy(v) for k, v in vars(original).items()}
    copy = deepcopy(original)
    assert vars(copy) == vars(original)
    copy.set_rate(actor="a", effective_on=date(2024, 2, 1), timekeeper_id="AB",
                  rate_minor_per_hour=200)
    copy.log_time(actor="a", entry_id=uuid4(), timekeeper_id="AB", work_on=date(2024, 1, 3),
                  minutes=6, task_code=None, activity_code=None, billable=True, narrative="m")
    copy.close(actor="a", effective_on=date(2024, 3, 1), reason="done")
    assert vars(original) == before
    assert len(copy.entries) == 2 and copy.version == original.version + 3
    assert original.collect_events() == []
