"""Each kind of damage, made with superuser rights, is named at its position."""

from __future__ import annotations

import uuid

import pytest

from ledger.store.chain import genesis_hash
from ledger.store.firm import FirmStore
from ledger.verify import KnownHead, verify_chain
from tests.chain_helpers import OTHER_TOPIC, append, rehash, superuser_sql

N = 10


@pytest.fixture
def chain(firm_store: FirmStore) -> FirmStore:
    append(firm_store, N)
    assert verify_chain(firm_store.location, firm_store.schema).checked == N
    return firm_store


def damage_of(store: FirmStore, known: KnownHead | None = None) -> tuple[int, str]:
    report = verify_chain(store.location, store.schema, known_head=known)
    assert report.damage is not None, "damage went undetected"
    return report.damage.position, report.damage.kind


def test_clean_chain_reports_count_and_head(chain: FirmStore) -> None:
    report = verify_chain(chain.location, chain.schema)
    assert report.ok and report.checked == N and report.head_position == N
    assert report.head_hash == chain.head().hash


def test_changed_payload(chain: FirmStore) -> None:
    superuser_sql(chain, "UPDATE EV SET state = '{\"n\":999}' WHERE notification_id = 4")
    assert damage_of(chain) == (4, "payload_changed")


def test_changed_topic_to_another_event_type(chain: FirmStore) -> None:
    # position 4 holds TOPIC (see chain_helpers.append); make it the other real type
    superuser_sql(chain, "UPDATE EV SET topic = %s WHERE notification_id = 4", (OTHER_TOPIC,))
    assert damage_of(chain) == (4, "topic_changed")


def test_changed_topic_to_unknown_type(chain: FirmStore) -> None:
    superuser_sql(chain, "UPDATE EV SET topic = 'billing:Forged' WHERE notification_id = 5")
    assert damage_of(chain) == (5, "topic_changed")


@pytest.mark.parametrize("shift", ["+ interval '1 hour'", "- interval '1 day'"])
def test_changed_recorded_at(chain: FirmStore, shift: str) -> None:
    superuser_sql(chain, f"UPDATE EV SET recorded_at = recorded_at {shift}"
                  " WHERE notification_id = 6")
    assert damage_of(chain) == (6, "recorded_at_changed")


def test_changed_hash(chain: FirmStore) -> None:
    superuser_sql(chain, "UPDATE EV SET hash = sha256(hash) WHERE notification_id = 7")
    assert damage_of(chain) == (7, "hash_changed")


def test_changed_prev_hash(chain: FirmStore) -> None:
    superuser_sql(chain, "UPDATE EV SET prev_hash = sha256(prev_hash) WHERE notification_id = 7")
    assert damage_of(chain)[0] == 7


def test_deleted_middle_row(chain: FirmStore) -> None:
    superuser_sql(chain, "DELETE FROM EV WHERE notification_id = 5")
    assert damage_of(chain) == (5, "row_missing")


def test_deleted_middle_row_and_renumbered(chain: FirmStore) -> None:
    superuser_sql(chain, "DELETE FROM EV WHERE notification_id = 5")
    superuser_sql(chain, "UPDATE EV SET notification_id = notification_id + 1000"
                  " WHERE notification_id > 5")
    superuser_sql(chain, "UPDATE EV SET notification_id = notification_id - 1001"
                  " WHERE notification_id > 1000")
    assert damage_of(chain) == (5, "row_missing")


def test_deleted_last_rows_detected_against_known_head(chain: FirmStore) -> None:
    head = chain.head()
    assert head.hash is not None
    known = KnownHead(head.position, bytes.fromhex(head.hash))
    superuser_sql(chain, "DELETE FROM EV WHERE notification_id > 7")
    assert verify_chain(chain.location, chain.schema).ok  # a shorter chain is self-consistent
    assert damage_of(chain, known) == (8, "tail_truncated")


def test_inserted_row(chain: FirmStore) -> None:
    superuser_sql(chain, "UPDATE EV SET notification_id = notification_id + 1000"
                  " WHERE notification_id > 4")
    superuser_sql(chain, "UPDATE EV SET notification_id = notification_id - 999"
                  " WHERE notification_id > 1000")
    superuser_sql(chain, "INSERT INTO EV (originator_id, originator_version, topic, state,"
                  " notification_id, recorded_at, prev_hash, hash) SELECT gen_random_uuid(), 1,"
                  " topic, '{\"forged\":1}', 5, recorded_at, hash, hash FROM EV"
                  " WHERE notification_id = 4")
    rehash(chain, 5)  # the attacker even makes the inserted row itself verify
    assert damage_of(chain) == (5, "row_inserted")


def test_swapped_rows(chain: FirmStore) -> None:
    superuser_sql(chain, "UPDATE EV SET notification_id = -notification_id"
                  " WHERE notification_id IN (3, 6)")
    superuser_sql(chain, "UPDATE EV SET notification_id = CASE notification_id WHEN -3 THEN 6"
                  " ELSE 3 END WHERE notification_id < 0")
    assert damage_of(chain) == (3, "rows_reordered")


def test_sequence_gap(chain: FirmStore) -> None:
    superuser_sql(chain, "UPDATE EV SET notification_id = notification_id + 1000"
                  " WHERE notification_id > 6")
    superuser_sql(chain, "UPDATE EV SET notification_id = notification_id - 998"
                  " WHERE notification_id > 1000")
    assert damage_of(chain) == (7, "sequence_gap")


def test_recomputed_but_forged_hash(chain: FirmStore) -> None:
    superuser_sql(chain, "UPDATE EV SET state = '{\"n\":0}' WHERE notification_id = 5")
    rehash(chain, 5)
    assert damage_of(chain) == (5, "hash_recomputed")


def test_whole_chain_recomputed_needs_a_known_head(chain: FirmStore) -> None:
    head = chain.head()
    assert head.hash is not None
    known = KnownHead(head.position, bytes.fromhex(head.hash))
    superuser_sql(chain, "UPDATE EV SET state = '{\"n\":0}' WHERE notification_id = 5")
    rehash(chain, 5, all_after=True)
    assert verify_chain(chain.location, chain.schema).ok  # undetectable without an anchor
    assert damage_of(chain, known) == (N, "head_mismatch")


def test_changed_genesis_ledger_binding(chain: FirmStore) -> None:
    superuser_sql(chain, f"UPDATE \"{chain.schema}\".chain_meta SET ledger_id = gen_random_uuid()")
    assert damage_of(chain)[0] == 1


def test_genesis_hash_is_bound_to_ledger_id(chain: FirmStore) -> None:
    ledger_id = uuid.UUID(chain.head().ledger_id)
    with chain.location.connect() as conn:
        first = conn.execute(f'SELECT prev_hash FROM "{chain.schema}".events'
                             ' WHERE notification_id = 1').fetchone()
    assert first is not None and bytes(first[0]) == genesis_hash(ledger_id)


def test_column_of_the_wrong_size(chain: FirmStore) -> None:
    superuser_sql(chain, "ALTER TABLE EV DROP CONSTRAINT events_prev_hash_check")
    superuser_sql(chain, "UPDATE EV SET prev_hash = substr(prev_hash, 1, 31)"
                  " WHERE notification_id = 5")
    assert damage_of(chain) == (5, "malformed_row")


def test_null_payload_is_malformed_not_the_end_of_the_chain(chain: FirmStore) -> None:
    superuser_sql(chain, "ALTER TABLE EV ALTER COLUMN state DROP NOT NULL")
    superuser_sql(chain, "UPDATE EV SET state = NULL WHERE notification_id = 6")
    assert damage_of(chain) == (6, "malformed_row")


@pytest.mark.parametrize(("position", "kind"), [(7, "recorded_at_changed"), (N, "hash_mismatch")])
def test_recorded_at_set_to_infinity(chain: FirmStore, position: int, kind: str) -> None:
    superuser_sql(chain, "UPDATE EV SET recorded_at = 'infinity' WHERE notification_id = %s",
                  (position,))
    assert damage_of(chain) == (position, kind)
