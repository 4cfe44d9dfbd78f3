"""The checker: what the writers were told, against what the ledger holds.

Invariants (each breach is one line of ``Verdict.violations``):

1. positions are exactly 1..N, and ``verify_chain`` walks all N without damage;
2. every transaction (rows sharing ``xmin``) is a contiguous run of positions
   with one ``recorded_at`` and exactly one ``CommandAccepted``, and holds the
   events its command must record, all of them (no partial command is visible);
   the command's result names the aggregates of that transaction;
3. every acknowledged (principal, key) has exactly one command record, of the
   same command, with the same result (repeats included); a refused command has
   none (a reused key keeps only its first command's); every record of a writer
   was acknowledged to it (or its outcome was journalled as unknown);
4. no deliberately invalid command was accepted, no call raised anything but a
   ``LedgerError`` or a lost connection;
5. money: an issued invoice's total is the sum of its lines' nets; payments,
   credit notes and write-offs never exceed it (the open balance never goes
   below zero), nothing settles a draft or a voided invoice, a voided invoice
   had nothing settled; per payment, allocations never exceed the amount and
   equal what the invoices received from it; invoice numbers are unique and
   gapless; no entry is billed twice and an issued invoice bills exactly its
   lines' sources;
6. trust: no matter's trust balance is ever negative, neither in the order the
   movements were recorded nor on any business date (a back-dated outflow must
   not overdraw an earlier day); a disbursement's acknowledged balances are
   those of the ledger at that point;
7. the read models kept live during the run equal the checker's own fold for
   every invoice, and equal a rebuild from position 0, row for row.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from psycopg.sql import SQL, Identifier

from commands.ledger_app import BillingLedger, ledger_env
from ledger.store.firm import FirmStore
from ledger.verify import verify_chain
from projections.catalog import MODELS
from projections.tracking import catch_up
from tests.harness.journal import Record, journal_path, read_journal

MAX_VIOLATIONS = 50

# Events each command must record (exact counts), besides its CommandAccepted.
REQUIRED: dict[str, dict[str, int]] = {
    "log_time": {"TimeLogged": 1, "TimeBooked": 1},
    "log_expense": {"ExpenseLogged": 1},
    "correct_time": {"TimeEntryCorrected": 1, "TimeBooked": 1},
    "void_entry": {"EntryVoided": 1},
    "draft_invoice": {"InvoiceDrafted": 1},
    "write_down": {"WrittenDown": 1},
    "issue_invoice": {"InvoiceIssued": 1, "InvoiceNumberAssigned": 1, "EntriesBilled": 1},
    "void_invoice": {"InvoiceVoided": 1},
    "record_payment": {"PaymentReceived": 1},
    "allocate_payment": {},
    "write_off": {"WrittenOff": 1},
    "issue_credit_note": {"CreditNoteIssued": 1},
    "record_trust_deposit": {"TrustDepositRecorded": 1},
    "record_trust_disbursement": {"TrustDisbursementRecorded": 1},
}
# Events a command may record besides those (how many depends on the state).
OPTIONAL: dict[str, set[str]] = {
    "log_time": {"TimesheetDayOpened"},
    "correct_time": {"TimesheetDayOpened", "TimeReleased"},
    "void_entry": {"TimeReleased"},
    "record_payment": {"PaymentAllocated", "PaymentApplied"},
    "allocate_payment": {"PaymentAllocated", "PaymentApplied"},
}


@dataclass
class Verdict:
    violations: list[str] = field(default_factory=list)
    figures: dict[str, int] = field(default_factory=dict)
    refusals: Counter[str] = field(default_factory=Counter)
    acknowledged: Counter[str] = field(default_factory=Counter)
    breaches: int = 0

    @property
    def ok(self) -> bool:
        return self.breaches == 0

    def fail(self, text: str) -> None:
        self.breaches += 1
        if len(self.violations) < MAX_VIOLATIONS:
            self.violations.append(text)

    def summary(self) -> str:
        f = self.figures
        lines = [
            f"checker: {'OK' if self.ok else f'FAILED ({self.breaches} breaches)'}",
            f"  commands: {f.get('acknowledged', 0)} acknowledged "
            f"({f.get('repeats', 0)} deliberate repeats), {f.get('refused', 0)} refused "
            f"({f.get('invalid_sent', 0)} deliberately invalid), {f.get('unknown', 0)} unknown, "
            f"{f.get('resent', 0)} re-sent after a lost answer, "
            f"{f.get('recovered_intents', 0)} resumed after a SIGKILL",
            f"  ledger: {f.get('events', 0)} events in {f.get('transactions', 0)} "
            f"transactions, chain verified over {f.get('verified', 0)}; "
            f"{f.get('invoices_issued', 0)} invoices issued, {f.get('payments', 0)} payments, "
            f"{f.get('entries_billed', 0)} entries billed once; "
            f"{f.get('trust_movements', 0)} trust movements, "
            f"{f.get('trust_held', 0)} minor units held in trust",
            f"  read models: {f.get('read_model_rows', 0)} rows, live == rebuilt: "
            f"{'yes' if f.get('projections_equal') else 'NO'}",
            f"  acknowledged by command: {dict(sorted(self.acknowledged.items()))}",
            f"  refused by type: {dict(sorted(self.refusals.items()))}",
        ]
        lines += [f"  VIOLATION: {v}" for v in self.violations]
        return "\n".join(lines)


@dataclass
class Row:
    position: int
    xmin: int
    recorded_at: Any
    originator_id: UUID
    name: str
    event: Any


def read_rows(store: FirmStore) -> list[Row]:
    app = BillingLedger(env=ledger_env(store))
    try:
        with store.location.connect() as conn:
            raw = conn.execute(SQL(
                "SELECT notification_id, xmin::text::bigint, recorded_at, originator_id, "
                "originator_version, topic, state FROM {s}.{t} ORDER BY notification_id").format(
                s=Identifier(store.schema), t=Identifier(store.events_table))).fetchall()
        rows = []
        for pos, xmin, at, oid, version, topic, state in raw:
            event = app.mapper.to_domain_event(StoredEvent(
                originator_id=oid, originator_version=version, topic=topic, state=bytes(state)))
            rows.append(Row(pos, xmin, at, oid, type(event).__name__, event))
        return rows
    finally:
        app.close()


def group_transactions(rows: list[Row], verdict: Verdict) -> list[list[Row]]:
    groups: dict[int, list[Row]] = defaultdict(list)
    for row in rows:
        groups[row.xmin].append(row)
    ordered = sorted(groups.values(), key=lambda g: g[0].position)
    for g in ordered:
        positions = [r.position for r in g]
        if positions != list(range(positions[0], positions[0] + len(g))):
            verdict.fail(f"transaction at {positions[0]} is not contiguous: {positions}")
        if len({r.recorded_at for r in g}) != 1:
            verdict.fail(f"transaction at {positions[0]} has several recorded_at")
        accepted = [r for r in g if r.name == "CommandAccepted"]
        if len(accepted) != 1:
            verdict.fail(f"transaction at {positions[0]} has {len(accepted)} command records "
                         f"({[r.name for r in g]})")
    return ordered


def check_transaction(group: list[Row], verdict: Verdict) -> None:
    record = next((r.event for r in group if r.name == "CommandAccepted"), None)
    if record is None or record.command not in REQUIRED:
        return  # set-up commands: only the one-record rule applies
    names = Counter(r.name for r in group if r.name != "CommandAccepted")
    required, optional = REQUIRED[record.command], OPTIONAL.get(record.command, set())
    where = f"{record.command} at {group[0].position}"
    for name, count in required.items():
        if names[name] != count:
            verdict.fail(f"{where}: {names[name]} {name}, expected {count}")
    extra = set(names) - set(required) - optional
    if extra:
        verdict.fail(f"{where}: unexpected events {sorted(extra)}")
    if names["PaymentAllocated"] != names["PaymentApplied"]:
        verdict.fail(f"{where}: {names['PaymentAllocated']} allocations but "
                     f"{names['PaymentApplied']} applications")
    if record.command == "allocate_payment" and names["PaymentAllocated"] < 1:
        verdict.fail(f"{where}: no allocation recorded")
    result = record.result
    by_name = {r.name: r for r in group}
    linked = {"invoice_id": ("InvoiceDrafted", "InvoiceIssued", "InvoiceVoided", "WrittenDown",
                             "WrittenOff"),
              "payment_id": ("PaymentReceived", "PaymentAllocated")}
    for key, candidates in linked.items():
        present = [by_name[n] for n in candidates if n in by_name]
        if key in result and present and str(present[0].originator_id) != result[key]:
            verdict.fail(f"{where}: result {key} is not the transaction's aggregate")
    if record.command == "log_time" and str(by_name["TimeLogged"].event.entry_id) != result.get(
            "entry_id"):
        verdict.fail(f"{where}: result entry_id is not the logged entry")
    if record.command == "issue_credit_note" and str(
            by_name["CreditNoteIssued"].event.credit_note_id) != result.get("credit_note_id"):
        verdict.fail(f"{where}: result credit_note_id is not the credit note")


def check_journals(workdir: Path, writers: int, groups: list[list[Row]],
                   verdict: Verdict) -> None:
    records: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for g in groups:
        for r in g:
            if r.name == "CommandAccepted":
                records[(r.event.actor, r.event.idempotency_key)].append(r.event)
    for who_key, found in records.items():
        if len(found) > 1:
            verdict.fail(f"{who_key}: {len(found)} command records")
    f: Counter[str] = Counter()
    answered: set[tuple[str, str]] = set()
    first_ack: dict[tuple[str, str], Record] = {}
    for writer in range(writers):
        journal = read_journal(journal_path(workdir, writer))
        intents = {rec["step"]: rec for rec in journal if rec["t"] == "intent"}
        seen_steps: set[int] = set()
        for line in journal:
            if line["t"] == "resume":
                f["recovered_intents"] += 1
                continue
            if line["t"] == "intent":
                continue
            step, who_key = line["step"], (line["principal"], line["key"])
            intent = intents.get(step, {})
            if step in seen_steps:
                verdict.fail(f"writer {writer} step {step} has two outcomes")
            seen_steps.add(step)
            f["resent"] += int(line.get("attempts", 1) > 1)
            f["invalid_sent"] += bool(intent.get("expect"))
            if line["t"] == "ack":
                f["acknowledged"] += 1
                verdict.acknowledged[line["command"]] += 1
                answered.add(who_key)
                if intent.get("repeat_of") is not None:
                    f["repeats"] += 1
                if intent.get("expect"):
                    verdict.fail(f"{who_key}: the invalid {line['command']} was accepted "
                                 f"(expected {intent['expect']})")
                found = records.get(who_key, [])
                if len(found) != 1:
                    verdict.fail(f"{who_key}: acknowledged {line['command']} has "
                                 f"{len(found)} command records")
                elif (found[0].command, dict(found[0].result)) != (
                        line["command"], line["result"]):
                    verdict.fail(f"{who_key}: the record differs from the acknowledgement")
                earlier = first_ack.setdefault(who_key, line)
                if earlier["result"] != line["result"]:
                    verdict.fail(f"{who_key}: a repeat returned another result")
            elif line["t"] == "refused":
                f["refused"] += 1
                verdict.refusals[line["type"]] += 1
                expect = intent.get("expect") or []
                if line["type"] == "idempotency-conflict":
                    if not records.get(who_key):
                        verdict.fail(f"{who_key}: key conflict but no earlier record")
                elif records.get(who_key):
                    verdict.fail(f"{who_key}: refused ({line['type']}) yet recorded")
                if expect and line["type"] not in expect:
                    f["invalid_other_refusal"] += 1
            elif line["t"] == "unknown":
                f["unknown"] += 1
                answered.add(who_key)
            else:
                verdict.fail(f"{who_key}: {line['command']} raised {line.get('error')}: "
                             f"{line.get('message')}")
        pending = [s for s in intents if s not in seen_steps]
        if pending:
            verdict.fail(f"writer {writer} ended with commands in flight: {pending}")
    for (who, key) in records:
        if who.startswith("harness-w") and (who, key) not in answered:
            verdict.fail(f"{(who, key)}: recorded but never acknowledged")
    verdict.figures.update(f)
    if not f["acknowledged"]:
        verdict.fail("no command was acknowledged: the run proves nothing")


@dataclass
class InvoiceFold:
    client_id: UUID | None = None
    status: str = "draft"
    number: str | None = None
    total: int = 0
    paid: int = 0
    credited: int = 0
    written_off: int = 0
    sources: tuple[str, ...] = ()

    @property
    def open(self) -> int:
        if self.status != "issued":
            return 0
        return self.total - self.paid - self.credited - self.written_off


def check_money(rows: list[Row], verdict: Verdict) -> dict[UUID, InvoiceFold]:
    invoices: dict[UUID, InvoiceFold] = {}
    payments: dict[UUID, int] = {}
    allocated: Counter[tuple[UUID, UUID]] = Counter()
    applied: Counter[tuple[UUID, UUID]] = Counter()
    sequences: list[int] = []
    numbers: Counter[str] = Counter()
    billed: Counter[str] = Counter()
    billed_by: dict[UUID, tuple[str, ...]] = {}
    first_number = None
    for row in rows:
        e, oid, name = row.event, row.originator_id, row.name
        inv = invoices.get(oid)
        if name == "InvoiceSeriesStarted":
            first_number = e.first_number
        elif name == "InvoiceDrafted":
            invoices[oid] = InvoiceFold(client_id=e.client_id)
        elif name == "InvoiceIssued" and inv is not None:
            if inv.status != "draft":
                verdict.fail(f"invoice {oid} issued while {inv.status}")
            inv.status, inv.number, inv.total = "issued", e.number, e.total_minor
            inv.sources = tuple(li.source_id for li in e.lines)
            numbers[e.number] += 1
            if e.total_minor != sum(li.amount_minor - li.written_down_minor for li in e.lines):
                verdict.fail(f"invoice {e.number}: total is not the sum of its lines")
        elif name == "InvoiceVoided" and inv is not None:
            if inv.paid or inv.credited or inv.written_off:
                verdict.fail(f"invoice {oid} voided with money settled on it")
            inv.status = "voided"
        elif name in ("PaymentApplied", "CreditNoteIssued", "WrittenOff") and inv is not None:
            if inv.status != "issued":
                verdict.fail(f"{name} on a {inv.status} invoice {oid}")
            if name == "PaymentApplied":
                inv.paid += e.amount_minor
                applied[(e.payment_id, oid)] += e.amount_minor
            elif name == "CreditNoteIssued":
                inv.credited += e.amount_minor
            else:
                inv.written_off += e.amount_minor
            if e.amount_minor <= 0 or inv.open < 0:
                verdict.fail(f"invoice {inv.number}: open balance {inv.open} after {name}")
        elif name == "InvoiceNumberAssigned":
            sequences.append(e.sequence)
        elif name == "PaymentReceived":
            payments[oid] = e.amount_minor
        elif name == "PaymentAllocated":
            allocated[(oid, e.invoice_id)] += e.amount_minor
            if sum(v for (p, _), v in allocated.items() if p == oid) > payments.get(oid, 0):
                verdict.fail(f"payment {oid} allocated beyond its amount")
        elif name == "EntriesBilled":
            billed.update(e.source_ids)
            billed_by[e.invoice_id] = tuple(e.source_ids)
    if allocated != applied:
        verdict.fail("allocations recorded on payments differ from those on invoices")
    if sequences and (first_number is None or sorted(sequences) != list(
            range(first_number, first_number + len(sequences)))):
        verdict.fail(f"invoice numbers are not gapless from {first_number}")
    if len(set(sequences)) != len(sequences) or any(c > 1 for c in numbers.values()):
        verdict.fail("an invoice number was assigned twice")
    twice = [s for s, c in billed.items() if c > 1]
    if twice:
        verdict.fail(f"{len(twice)} sources billed twice, e.g. {twice[0]}")
    issued = {k: v for k, v in invoices.items() if v.status != "draft" and v.number}
    for oid, inv in issued.items():
        if tuple(billed_by.get(oid, ())) != inv.sources:
            verdict.fail(f"invoice {inv.number}: billed sources differ from its lines")
    if len(issued) != len(sequences):
        verdict.fail(f"{len(issued)} invoices issued but {len(sequences)} numbers assigned")
    owed = sum(v.open for v in invoices.values())
    settled = sum(v.total - v.paid - v.credited - v.written_off
                  for v in invoices.values() if v.status == "issued")
    if owed != settled:
        verdict.fail("open balances do not add up")
    verdict.figures.update(invoices_issued=len(issued), payments=len(payments),
                           entries_billed=len(billed))
    return invoices


TRUST_MOVEMENTS = {"TrustDepositRecorded": 1, "TrustDepositReversed": -1,
                   "TrustDisbursementRecorded": -1, "TrustTransferredToOperating": -1}


def check_trust(rows: list[Row], verdict: Verdict) -> None:
    """Trust balances per matter, in recorded order and by business date."""
    running: Counter[UUID] = Counter()
    dated: dict[UUID, list[tuple[Any, int]]] = defaultdict(list)
    after: dict[int, int] = {}  # transaction (xmin) -> its matter's balance after it
    stated: dict[int, Any] = {}  # transaction (xmin) -> the balance its result stated
    movements = 0
    for row in rows:
        if row.name == "CommandAccepted" and "matter_balance_minor" in row.event.result:
            stated[row.xmin] = row.event.result["matter_balance_minor"]
        sign = TRUST_MOVEMENTS.get(row.name)
        if sign is None:
            continue
        e = row.event
        movements += 1
        running[e.matter_id] += sign * e.amount_minor
        dated[e.matter_id].append((e.effective_on, sign * e.amount_minor))
        if e.amount_minor <= 0:
            verdict.fail(f"{row.name} at {row.position}: amount {e.amount_minor}")
        after[row.xmin] = running[e.matter_id]
        if running[e.matter_id] < 0:
            verdict.fail(f"trust balance of matter {e.matter_id} is {running[e.matter_id]} "
                         f"after position {row.position}")
    for xmin, balance in stated.items():
        if xmin in after and int(balance) != after[xmin]:
            verdict.fail(f"a trust command's result states {balance}, the ledger {after[xmin]}")
    for matter, moves in dated.items():
        balance = 0
        for day in sorted({d for d, _ in moves}):
            balance += sum(a for d, a in moves if d == day)
            if balance < 0:
                verdict.fail(f"trust balance of matter {matter} is {balance} on {day}")
                break
    verdict.figures.update(trust_movements=movements,
                           trust_held=sum(running.values()))


def snapshot(store: FirmStore) -> dict[str, list[tuple[Any, ...]]]:
    out: dict[str, list[tuple[Any, ...]]] = {}
    with store.location.connect() as conn:
        for model in MODELS.values():
            for t in model.tables:
                keys = ", ".join(f'"{k}"' for k in t.key)
                out[t.name] = conn.execute(
                    f'SELECT * FROM "{store.schema}"."{t.name}" ORDER BY {keys}').fetchall()
    return out


def check_projections(store: FirmStore, invoices: dict[UUID, InvoiceFold],
                      verdict: Verdict) -> None:
    models = list(MODELS.values())
    catch_up(store, models)  # the live models, from where the follower left them
    live = snapshot(store)
    with store.location.connect() as conn:
        rm = conn.execute(SQL(
            "SELECT invoice_id, status, number, total_minor, paid_minor, credited_minor, "
            "written_off_minor, open_minor FROM {s}.rm_invoices").format(
            s=Identifier(store.schema))).fetchall()
    if len(rm) != len(invoices):
        verdict.fail(f"rm_invoices has {len(rm)} rows for {len(invoices)} invoices")
    for oid, status, number, total, paid, credited, wo, open_ in rm:
        inv = invoices.get(oid)
        if inv is None:
            verdict.fail(f"rm_invoices has an unknown invoice {oid}")
            continue
        mine = (inv.status, inv.number, paid == inv.paid, credited == inv.credited,
                wo == inv.written_off, open_ == inv.open)
        if mine != (status, number, True, True, True, True) or (
                status != "draft" and total != inv.total):
            verdict.fail(f"rm_invoices row of {number or oid} differs from the events")
    catch_up(store, models, rebuild=True)
    rebuilt = snapshot(store)
    equal = rebuilt == live
    if not equal:
        differing = [t for t in live if live[t] != rebuilt.get(t)]
        verdict.fail(f"rebuilt read models differ from the live ones in {differing}")
        for t in differing:
            only_live = sorted(set(live[t]) - set(rebuilt.get(t, [])), key=str)
            only_rebuilt = sorted(set(rebuilt.get(t, [])) - set(live[t]), key=str)
            for row in only_live[:3]:
                verdict.fail(f"{t} live row not rebuilt: {row}")
            for row in only_rebuilt[:3]:
                verdict.fail(f"{t} rebuilt row not live: {row}")
    verdict.figures.update(projections_equal=int(equal),
                           read_model_rows=sum(len(v) for v in live.values()))


def check(workdir: Path, store: FirmStore, writers: int) -> Verdict:
    verdict = Verdict()
    rows = read_rows(store)
    n = len(rows)
    if [r.position for r in rows] != list(range(1, n + 1)):
        verdict.fail("positions are not gapless from 1")
    report = verify_chain(store.location, store.schema, store.events_table)
    if not report.ok or report.checked != n:
        verdict.fail(f"chain verification: {report.as_dict()}")
    groups = group_transactions(rows, verdict)
    for g in groups:
        check_transaction(g, verdict)
    check_journals(workdir, writers, groups, verdict)
    invoices = check_money(rows, verdict)
    check_trust(rows, verdict)
    check_projections(store, invoices, verdict)
    verdict.figures.update(events=n, transactions=len(groups), verified=report.checked)
    return verdict
