"""A generator of damage for the tamper matrix, and its runner.

Each case copies nothing: it opens a transaction on a real ledger, turns the
triggers off (``session_replication_role = replica``, superuser only), applies
one damage, verifies inside the same transaction, and rolls back. So thousands
of cases run against the same real, untouched ledger.

Every case knows where the damage must be reported. Appending a correctly
hashed row at the tail is not in the matrix: without an external anchor it is
indistinguishable from a legitimate append, which is what checkpoints are for.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg

from ledger.store.chain import ChainHasher, to_micros
from ledger.store.firm import FirmStore
from ledger.verify import KnownHead, VerificationReport, verify_chain_on
from ledger.verify_ranges import InlineRanges, RangePlan

Apply = Callable[[psycopg.Connection[Any], str], None]


@dataclass
class Case:
    name: str
    expected_position: int
    apply: Apply
    known_head: bool = False


@dataclass
class MatrixResult:
    cases: int = 0
    detected: int = 0
    at_right_position: int = 0
    by_case: Counter[str] = field(default_factory=Counter)
    missed: list[str] = field(default_factory=list)
    differ: list[str] = field(default_factory=list)  # ranged reports unlike the serial one

    def summary(self) -> str:
        def pct(part: int) -> str:
            hundredths = 10_000 * part // max(self.cases, 1)
            return f"{hundredths // 100}.{hundredths % 100:02d} %"

        return (f"tamper matrix: {self.cases} cases, detected {self.detected} "
                f"({pct(self.detected)}), at the right position {self.at_right_position} "
                f"({pct(self.at_right_position)}); by damage: {dict(sorted(self.by_case.items()))}")


def _update(sql: str, params: tuple[Any, ...]) -> Apply:
    return lambda conn, t: conn.execute(sql.replace("EV", t), params) and None


def _flip(column: str, position: int, rng: random.Random) -> Apply:
    def apply(conn: psycopg.Connection[Any], t: str) -> None:
        row = conn.execute(f"SELECT {column} FROM {t} WHERE notification_id = %s",
                           (position,)).fetchone()
        assert row is not None
        data = bytearray(row[0])
        bit = rng.randrange(len(data) * 8)
        data[bit // 8] ^= 1 << (bit % 8)
        conn.execute(f"UPDATE {t} SET {column} = %s WHERE notification_id = %s",
                     (bytes(data), position))
    return apply


def _rehash_from(position: int, ledger_id: uuid.UUID, count: int | None = None) -> Apply:
    """What an attacker who knows the layout does: recompute hashes from a position on."""
    def apply(conn: psycopg.Connection[Any], t: str) -> None:
        rows = conn.execute(
            f"SELECT notification_id, originator_id, originator_version, topic, state,"
            f" recorded_at, prev_hash FROM {t} WHERE notification_id >= %s"
            f" ORDER BY notification_id LIMIT %s", (position, count)).fetchall()
        hasher, prev = ChainHasher(ledger_id), None
        for pos, oid, version, topic, state, at, prev_hash in rows:
            prev = bytes(prev_hash) if prev is None else prev
            digest = hasher.event_hash(position=pos, prev_hash=prev, originator_id=oid,
                                       originator_version=version, topic=topic,
                                       state=bytes(state), recorded_at_micros=to_micros(at))
            conn.execute(f"UPDATE {t} SET prev_hash = %s, hash = %s WHERE notification_id = %s",
                         (prev, digest, pos))
            prev = digest
    return apply


def _chain(*steps: Apply) -> Apply:
    def apply(conn: psycopg.Connection[Any], t: str) -> None:
        for step in steps:
            step(conn, t)
    return apply


def generate_case(rng: random.Random, n: int, topics: list[str], ledger_id: uuid.UUID) -> Case:
    """One random damage on a chain of ``n`` events, with where it must be found."""
    p = rng.randint(1, n)
    kind = rng.choice(["payload_bits", "hash_bits", "prev_hash_bits", "recorded_at", "topic",
                       "delete", "delete_renumber", "swap", "truncate", "insert_forged",
                       "duplicate", "recompute_one", "recompute_all", "gap"])
    if kind in ("payload_bits", "hash_bits", "prev_hash_bits"):
        column = {"payload_bits": "state", "hash_bits": "hash", "prev_hash_bits": "prev_hash"}
        return Case(kind, p, _flip(column[kind], p, rng), known_head=True)
    if kind == "recorded_at":
        shift = rng.choice([-1, 1]) * rng.randint(1, 10**9)
        return Case(kind, p, _update("UPDATE EV SET recorded_at = recorded_at + "
                                     "make_interval(secs => %s::numeric / 1000000)"
                                     " WHERE notification_id = %s", (shift, p)), known_head=True)
    if kind == "topic":
        other = rng.choice([*topics, "billing:Forged"])
        return Case(kind, p, _update(
            "UPDATE EV SET topic = CASE WHEN topic = %s THEN %s ELSE %s END"
            " WHERE notification_id = %s", (other, "billing:Forged", other, p)), known_head=True)
    if kind == "delete":
        return Case(kind, p, _update("DELETE FROM EV WHERE notification_id = %s", (p,)),
                    known_head=True)
    if kind == "delete_renumber":
        return Case(kind, p, _chain(
            _update("DELETE FROM EV WHERE notification_id = %s", (p,)),
            _update("UPDATE EV SET notification_id = -notification_id + 1"
                    " WHERE notification_id > %s", (p,)),
            _update("UPDATE EV SET notification_id = -notification_id WHERE notification_id < 0",
                    ())), known_head=True)
    if kind == "swap" and n >= 2:
        a, b = sorted(rng.sample(range(1, n + 1), 2))
        return Case(kind, a, _chain(
            _update("UPDATE EV SET notification_id = -notification_id"
                    " WHERE notification_id IN (%s, %s)", (a, b)),
            _update("UPDATE EV SET notification_id = CASE notification_id WHEN %s THEN %s"
                    " ELSE %s END WHERE notification_id < 0", (-a, b, a))))
    if kind == "truncate":
        return Case(kind, p, _update("DELETE FROM EV WHERE notification_id >= %s", (p,)),
                    known_head=True)
    if kind == "insert_forged":
        return Case(kind, n + 1, _update(
            "INSERT INTO EV (originator_id, originator_version, topic, state, notification_id,"
            " recorded_at, prev_hash, hash) SELECT gen_random_uuid(), 1, topic, state, %s,"
            " recorded_at, hash, sha256(hash) FROM EV WHERE notification_id = %s", (n + 1, n)))
    if kind == "duplicate":
        return Case(kind, n + 1, _update(
            "INSERT INTO EV (originator_id, originator_version, topic, state, notification_id,"
            " recorded_at, prev_hash, hash) SELECT originator_id, originator_version + 1000,"
            " topic, state, %s, recorded_at, prev_hash, hash FROM EV"
            " WHERE notification_id = %s", (n + 1, p)))
    if kind == "recompute_one":
        return Case(kind, p, _chain(
            _update("UPDATE EV SET state = state || ' ' WHERE notification_id = %s", (p,)),
            _rehash_from(p, ledger_id, count=1)), known_head=True)
    if kind == "recompute_all":
        return Case(kind, n, _chain(
            _update("UPDATE EV SET state = state || ' ' WHERE notification_id = %s", (p,)),
            _rehash_from(p, ledger_id)), known_head=True)
    # gap: positions after p shifted up by one, chain left intact
    p = rng.randint(1, n - 1)
    return Case("gap", p + 1, _chain(
        _update("UPDATE EV SET notification_id = -notification_id - 1 WHERE notification_id > %s",
                (p,)),
        _update("UPDATE EV SET notification_id = -notification_id WHERE notification_id < 0",
                ())))


def boundary_range_size(rng: random.Random, position: int) -> int:
    """A range size that puts ``position`` first or last in its range, or next to a
    boundary, or among many tiny ranges (ranges start at 1, 1 + size, 1 + 2 size ...)."""
    return max(1, rng.choice([position - 1, position, position + 1, position - 2, 1, 2, 7]))


def run_matrix(store: FirmStore, cases: int, seed: int = 1, *,
               ranged: bool = False) -> MatrixResult:
    """Apply ``cases`` random damages, one per rolled-back transaction, and verify each.

    ``ranged``: also verify each case in ranges (on the same connection, so the
    rolled-back damage is visible), cut so the damage sits at a range boundary,
    and record any report that differs from the serial one in ``differ``.
    """
    rng = random.Random(seed)
    table = f'"{store.schema}"."{store.events_table}"'
    result = MatrixResult()
    with psycopg.connect(store.location.url) as conn:
        n_row = conn.execute(f"SELECT max(notification_id) FROM {table}").fetchone()
        n = int(n_row[0]) if n_row and n_row[0] else 0
        assert n >= 2, "the matrix needs a ledger with events"
        head = conn.execute(f"SELECT hash FROM {table} WHERE notification_id = %s",
                            (n,)).fetchone()
        assert head is not None
        known = KnownHead(n, bytes(head[0]))
        topics = [r[0] for r in conn.execute(f"SELECT DISTINCT topic FROM {table}").fetchall()]
        conn.rollback()
        ledger_id = uuid.UUID(store.head().ledger_id)
        for _ in range(cases):
            case = generate_case(rng, n, topics, ledger_id)
            conn.execute("SET LOCAL session_replication_role = replica")
            case.apply(conn, table)
            report = verify_chain_on(conn, store.schema, store.events_table,
                                     known_head=known if case.known_head else None)
            if ranged:
                size = boundary_range_size(rng, case.expected_position)
                _compare_ranged(conn, store, case, known, size, report, result)
            conn.rollback()
            result.cases += 1
            result.by_case[case.name] += 1
            if report.damage is not None:
                result.detected += 1
                if report.damage.position == case.expected_position:
                    result.at_right_position += 1
                    continue
            result.missed.append(f"{case.name}@{case.expected_position}: {report.damage}")
    return result


def _compare_ranged(conn: psycopg.Connection[Any], store: FirmStore, case: Case, known: KnownHead,
                    size: int, serial: VerificationReport, result: MatrixResult) -> None:
    ranges = InlineRanges(RangePlan(range_size=size, min_events=0))
    ranged = verify_chain_on(conn, store.schema, store.events_table, ranges=ranges,
                             known_head=known if case.known_head else None)
    if ranged.as_dict() != serial.as_dict():
        result.differ.append(f"{case.name}@{case.expected_position} ranges of {size}: "
                             f"{ranged.damage} != {serial.damage}")
