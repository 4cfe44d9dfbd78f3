"""Benchmark of the read side (not a test): rebuild throughput and as-of latency.

Fills a firm's ledger with N synthetic but well-formed billing events (clients,
matters, monthly time and expenses, invoices, payments; written through the
chained recorder, so they are hashed like any other), then prints

* the rebuild throughput of all read models from position 0 (events/s over N);
* the latency of an as-of Q1 statement for one client (median of repeats).

    python scripts/bench_projections.py [--events 1000000] [--firm bench_rm] [--reuse]
                                        [--processes N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import msgspec
from eventsourcing.persistence import StoredEvent

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger.database import locate_database
from ledger.domain.ids import firm_id
from ledger.settings import Settings
from ledger.store.firm import FirmStore
from ledger.store.recorder import ChainedApplicationRecorder
from projections import events as ev
from projections import query
from projections.catalog import MODELS
from projections.reading import head_position
from projections.tracking import catch_up

ENCODE = msgspec.json.Encoder(order="sorted").encode
ENTRIES_PER_MONTH = 20
MONTHS = 12


def topic(cls: type[ev.Fact]) -> str:
    return ev.TOPIC_OF[cls]


class Writer:
    """Builds stored events with per-aggregate versions."""

    def __init__(self) -> None:
        self.versions: dict[UUID, int] = {}
        self.now = datetime(2025, 1, 1, tzinfo=UTC).isoformat()

    def event(self, oid: UUID, cls: type[ev.Fact], on: date, **state: Any) -> StoredEvent:
        version = self.versions.get(oid, 0) + 1
        self.versions[oid] = version
        body = {"actor": "bench", "effective_on": on.isoformat(), "timestamp": self.now,
                **state}
        return StoredEvent(originator_id=oid, originator_version=version, topic=topic(cls),
                           state=ENCODE(body))


def client_events(w: Writer) -> Iterator[StoredEvent]:
    client, matter = uuid4(), uuid4()
    yield w.event(client, ev.ClientOnboarded, date(2025, 1, 2), currency="USD",
                  payment_terms_days=30, confidential={"name": "Client", "billing_contact": "ap"},
                  originator_topic="ledger.domain.client:Client")
    yield w.event(matter, ev.MatterOpened, date(2025, 1, 3), client_id=str(client),
                  currency="USD", utbms=True, confidential={"title": "Matter"},
                  arrangement={"kind": "hourly", "increment_minutes": 6},
                  originator_topic="ledger.domain.matter:Matter")
    for month in range(1, MONTHS + 1):
        start = date(2025, month, 1)
        lines: list[dict[str, Any]] = []
        sources: list[str] = []
        for n in range(ENTRIES_PER_MONTH):
            entry, on = uuid4(), start + timedelta(days=n % 27)
            if n % 10 == 9:
                yield w.event(matter, ev.ExpenseLogged, on, entry_id=str(entry),
                              expense_code="E101", amount_minor=2_500, currency="USD",
                              billable=True, confidential={"description": "Copies"})
                lines.append({"line_no": n + 1, "kind": "expense", "source_id": str(entry),
                              "source_revision": 1, "work_on": on.isoformat(),
                              "amount_minor": 2_500, "expense_code": "E101"})
            else:
                yield w.event(matter, ev.TimeLogged, on, entry_id=str(entry),
                              timekeeper_id="PA", raw_minutes=30, minutes=30,
                              increment_minutes=6, task_code="L110", activity_code="A101",
                              billable=True, confidential={"narrative": "Work"})
                lines.append({"line_no": n + 1, "kind": "time", "source_id": str(entry),
                              "source_revision": 1, "work_on": on.isoformat(),
                              "amount_minor": 25_000, "timekeeper_id": "PA", "minutes": 30,
                              "rate_minor_per_hour": 50_000, "task_code": "L110",
                              "activity_code": "A101"})
            sources.append(str(entry))
        invoice, payment = uuid4(), uuid4()
        end = start + timedelta(days=27)
        total = sum(li["amount_minor"] for li in lines)
        yield w.event(invoice, ev.InvoiceDrafted, end, matter_id=str(matter),
                      client_id=str(client), currency="USD", period_start=start.isoformat(),
                      period_end=end.isoformat(), lines=lines,
                      originator_topic="ledger.domain.invoice:Invoice")
        yield w.event(matter, ev.EntriesBilled, end, invoice_id=str(invoice),
                      source_ids=sources)
        yield w.event(invoice, ev.InvoiceIssued, end, number=f"B-{invoice.hex[:10]}",
                      due_on=(end + timedelta(days=30)).isoformat(), lines=lines,
                      total_minor=total)
        paid_on = end + timedelta(days=20)
        yield w.event(payment, ev.PaymentReceived, paid_on, client_id=str(client),
                      amount_minor=total, currency="USD", method="wire", reference="W",
                      originator_topic="ledger.domain.payment:Payment")
        yield w.event(invoice, ev.PaymentApplied, paid_on, payment_id=str(payment),
                      amount_minor=total)


def fill(store: FirmStore, n: int) -> None:
    datastore = store.datastore()
    recorder = ChainedApplicationRecorder(datastore, events_table_name=store.events_table)
    w = Writer()
    w.versions[firm_id()] = 0
    batch: list[StoredEvent] = [
        w.event(firm_id(), ev.FirmSetUp, date(2025, 1, 1), currency="USD",
                originator_topic="ledger.domain.firm:Firm"),
        w.event(firm_id(), ev.TimekeeperRegistered, date(2025, 1, 1), timekeeper_id="PA",
                name="Pat Avery", title="PARTNR", default_rate_minor_per_hour=50_000)]
    written, started = 0, time.perf_counter()
    while written + len(batch) < n:
        batch.extend(client_events(w))
        if len(batch) >= 5_000:
            recorder.insert_events(batch)
            written += len(batch)
            batch = []
            print(f"\rfilling {written}/{n}", end="", file=sys.stderr)
    if batch:
        recorder.insert_events(batch)
        written += len(batch)
    datastore.close()
    print(f"\rfilled {written} events in {time.perf_counter() - started:.0f} s",
          file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--firm", default="bench_rm")
    parser.add_argument("--reuse", action="store_true", help="keep an existing filled ledger")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--processes", type=int, default=None,
                        help="processes folding the models (default: as `ledger projections "
                             "rebuild` chooses, two for a large ledger)")
    args = parser.parse_args()
    store = FirmStore(locate_database(Settings()), args.firm)
    measure(store, args.events, reuse=args.reuse, repeats=args.repeats,
            processes=args.processes)
    return 0


def measure(store: FirmStore, events: int, *, reuse: bool = False, repeats: int = 20,
            processes: int | None = None) -> dict[str, Any]:
    """Fill ``store`` to ``events`` events, rebuild every read model, time as-of reads;
    return the printed figures."""
    if not reuse:
        with store.location.connect() as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{store.schema}" CASCADE')
    store.ensure()
    if head_position(store) < events:
        fill(store, events - head_position(store))
    with store.location.connect() as conn:
        conn.execute(f'ANALYZE "{store.schema}".events')
    n = head_position(store)
    started = time.perf_counter()
    catch_up(store, list(MODELS.values()), rebuild=True, processes=processes)
    took = time.perf_counter() - started
    print(f"rebuild of all read models: {n} events in {took:.1f} s = {n / took:,.0f} events/s"
          f" ({processes or 'default'} processes)")

    with store.location.connect() as conn:
        client_id, = conn.execute(
            f'SELECT client_id FROM "{store.schema}".rm_originators WHERE kind = \'client\' '
            f'ORDER BY first_position LIMIT 1'
        ).fetchone() or (None,)
        middle, = conn.execute(
            f'SELECT recorded_at FROM "{store.schema}".events WHERE notification_id = %s',
            (n // 2,)).fetchone() or (None,)
    assert client_id is not None, "the ledger has a client"
    timings = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        report = query.statement_report(store, client_id, date(2025, 1, 1), date(2025, 3, 31),
                                        as_of=middle)
        timings.append((time.perf_counter() - t0) * 1000)
    print(f"as-of Q1 statement for one client ({len(report['lines'])} lines, as of position "
          f"{report['position']} of {n}): median {statistics.median(timings):.1f} ms, "
          f"max {max(timings):.1f} ms over {repeats}", flush=True)
    return {"events": n, "rebuild_ev_s": n / took, "rebuild_processes": processes,
            "as_of_median_ms": statistics.median(timings), "as_of_max_ms": max(timings),
            "as_of_repeats": repeats}

if __name__ == "__main__":
    raise SystemExit(main())
