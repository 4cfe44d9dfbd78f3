"""A matter copied out of the aggregate cache is independent of the cached one."""

from __future__ import annotations

from copy import deepcopy
from datetime import date
from uuid import uuid4

from ledger.domain.events import Arrangement
from ledger.domain.layered import FOLD_AT, LayeredDict
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


def test_a_layered_dict_behaves_as_a_dict_and_copies_share_their_base() -> None:
    plain: dict[int, str] = {}
    layered: LayeredDict[int, str] = LayeredDict()
    copies = []
    for n in range(3 * FOLD_AT + 7):
        key = n % (FOLD_AT + 5)  # new keys and replacements, across folds
        plain[key] = layered[key] = f"v{n}"
        if n % 500 == 0:
            copies.append((dict(plain), layered.copy()))
    assert list(layered.items()) == list(plain.items())
    assert layered == plain and len(layered) == len(plain) and 3 in layered
    assert layered.get(-1) is None
    for snapshot, copy in copies:  # later writes never reach an earlier copy
        assert list(copy.items()) == list(snapshot.items())
    copy = layered.copy()
    copy[10**6] = "new"
    assert 10**6 not in layered and len(copy) == len(layered) + 1
