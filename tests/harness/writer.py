"""A writer process: random valid and invalid billing commands on one firm.

Each step draws a command from a seeded random generator (seed, writer, step),
writes its intent to the journal, sends it through its own ``BillingService``
and journals the outcome only after the call returned. Whenever the outcome is
unknown (connection lost, backend terminated, server restarting) the writer
re-sends the SAME command with the SAME idempotency key, a bounded number of
times, opening a fresh service (fresh pool) in between.

Writers share the firm's clients, hourly matters and trust account, so
drafting, issuing, payments, write-offs, credit notes, trust deposits and trust
disbursements race on the same matters, invoices, invoice series and trust
balances (a disbursement larger than the matter's trust balance on its date is
refused with ``trust-overdraft``).
"""

from __future__ import annotations

import contextlib
import random
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import PersistenceError
from eventsourcing.utils import get_topic
from psycopg.sql import SQL, Identifier

from commands import models as m
from commands.auth import Principal
from commands.errors import ConcurrentUpdateError
from commands.ledger_app import Context
from commands.service import BillingService
from commands.trust import models as t
from ledger.database import DatabaseLocation
from ledger.domain.invoice import Invoice, InvoiceIssued
from ledger.errors import DatabaseUnavailableError, LedgerError
from ledger.store.firm import FirmStore
from tests.harness.journal import Fixture, Journal, Record, journal_path, read_journal

MAX_ATTEMPTS = 40
"""Re-sends of one command after unknown outcomes before it is journalled as unknown."""
RETRY_SECONDS = 60.0
"""Wall-clock bound on the re-sends of one command."""
MAX_STEPS = 100_000
FIRST_DAY = date(2024, 1, 1)
DAYS = 91
REASON = "harness adjustment"

COMMAND_MODELS: dict[str, type[m.Command]] = {
    "log_time": m.LogTime, "log_expense": m.LogExpense, "correct_time": m.CorrectTime,
    "void_entry": m.VoidEntry, "draft_invoice": m.DraftInvoice, "write_down": m.WriteDown,
    "issue_invoice": m.IssueInvoice, "void_invoice": m.VoidInvoice,
    "record_payment": m.RecordPayment, "allocate_payment": m.AllocatePayment,
    "write_off": m.WriteOff, "issue_credit_note": m.IssueCreditNote,
    "record_trust_deposit": t.RecordTrustDeposit,
    "record_trust_disbursement": t.RecordTrustDisbursement,
}

WEIGHTS: dict[str, int] = {
    "log_time": 22, "log_expense": 4, "correct_time": 3, "void_entry": 2,
    "draft_invoice": 10, "write_down": 3, "issue_invoice": 12, "void_invoice": 2,
    "record_payment": 10, "allocate_payment": 6, "write_off": 4, "issue_credit_note": 4,
    "record_trust_deposit": 4, "record_trust_disbursement": 6, "repeat": 3, "invalid": 12,
}


def principal_id(writer: int) -> str:
    return f"harness-w{writer}"


def is_infrastructure(exc: BaseException) -> bool:
    """A lost connection or an unavailable server: the outcome is unknown, re-send."""
    return isinstance(exc, psycopg.Error | PersistenceError | OSError | DatabaseUnavailableError
                      | ConcurrentUpdateError | TimeoutError)


@dataclass
class Planned:
    command: str
    payload: dict[str, Any]
    principal: str
    key: str
    roles: tuple[str, ...] = ("firm_admin",)
    expect: tuple[str, ...] = ()  # refusal types expected of a deliberately invalid command
    repeat_of: int | None = None


@dataclass
class WriterState:
    """What the writer knows from its own acknowledged commands."""

    entries: list[tuple[str, str]] = field(default_factory=list)  # (matter, entry)
    drafts: list[str] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)
    payments: list[str] = field(default_factory=list)
    acked: list[tuple[int, Planned, dict[str, Any]]] = field(default_factory=list)

    def learn(self, step: int, planned: Planned, result: dict[str, Any]) -> None:
        if planned.repeat_of is not None or planned.expect:
            return
        self.acked.append((step, planned, result))
        name, p = planned.command, planned.payload
        if name == "log_time":
            self.entries.append((p["matter_id"], str(result["entry_id"])))
        elif name == "draft_invoice":
            self.drafts.append(str(result["invoice_id"]))
        elif name == "issue_invoice":
            with contextlib.suppress(ValueError):
                self.drafts.remove(p["invoice_id"])
            self.issued.append(p["invoice_id"])
        elif name == "void_invoice":
            for bucket in (self.drafts, self.issued):
                with contextlib.suppress(ValueError):
                    bucket.remove(p["invoice_id"])
        elif name == "record_payment":
            self.payments.append(str(result["payment_id"]))

    def forget_draft(self, planned: Planned, refusal: str) -> None:
        """A draft that can never be issued (outdated, billed elsewhere) is dropped."""
        if planned.command == "issue_invoice" and not planned.expect and refusal in (
                "draft-outdated", "already-billed", "invoice-not-draft"):
            with contextlib.suppress(ValueError):
                self.drafts.remove(planned.payload["invoice_id"])


class Writer:
    def __init__(self, workdir: Path, index: int) -> None:
        self.workdir = workdir
        self.index = index
        self.fixture = Fixture.load(workdir / "run.json")
        self.location = DatabaseLocation(self.fixture.url, embedded=True)
        self.store = FirmStore(self.location, self.fixture.firm, pool_size=2)
        self.principal = principal_id(index)
        self.state = WriterState()
        self.service: BillingService | None = None
        self.reader: psycopg.Connection[Any] | None = None
        self.journal = Journal(journal_path(workdir, index))

    # -- infrastructure ----------------------------------------------------------

    def open_service(self) -> BillingService:
        if self.service is None:
            self.service = BillingService(self.store)
        return self.service

    def reset(self) -> None:
        for thing in (self.service, self.reader):
            if thing is not None:
                with contextlib.suppress(Exception):
                    thing.close()
        self.service, self.reader = None, None

    def recent_issued(self, limit: int = 25) -> list[str]:
        """Recently issued invoices of every writer (best effort: none when unreachable)."""
        try:
            if self.reader is None or self.reader.closed:
                self.reader = psycopg.connect(self.fixture.url, autocommit=True,
                                              connect_timeout=3)
            rows = self.reader.execute(
                SQL("SELECT originator_id FROM {s}.events WHERE topic = %s "
                    "ORDER BY notification_id DESC LIMIT %s").format(
                    s=Identifier(self.store.schema)),
                (get_topic(InvoiceIssued), limit)).fetchall()
        except psycopg.Error:
            self.reset()
            return []
        return [str(r[0]) for r in rows]

    def invoice(self, invoice_id: str) -> Invoice | None:
        """The invoice as stored now (None when unknown or the server is unreachable)."""
        try:
            return Context(self.open_service().app).find(UUID(invoice_id), Invoice)
        except Exception as exc:
            if not is_infrastructure(exc):
                raise
            self.reset()
            return None

    def open_balance(self, invoice_id: str) -> int:
        found = self.invoice(invoice_id)
        return found.open_balance_minor if found is not None else 0

    # -- the plan ---------------------------------------------------------------

    def key(self, step: int) -> str:
        return f"h{self.fixture.seed}-w{self.index}-s{step:06d}"

    def plan(self, step: int) -> Planned:
        rng = random.Random(f"{self.fixture.seed}:{self.index}:{step}")
        names = list(WEIGHTS)
        choice = rng.choices(names, weights=[WEIGHTS[n] for n in names])[0]
        if choice == "repeat" and self.state.acked:
            _, original, _ = rng.choice(self.state.acked)
            return Planned(original.command, original.payload, original.principal,
                           original.key, repeat_of=self._step_of(original))
        if choice == "invalid":
            return self.invalid(rng, step)
        built = self.valid(rng, choice if choice != "repeat" else "log_time", step)
        return built

    def _step_of(self, planned: Planned) -> int:
        return int(planned.key.rsplit("-s", 1)[1])

    def _p(self, step: int, command: str, **payload: Any) -> Planned:
        data = {"idempotency_key": self.key(step), **payload}
        model = COMMAND_MODELS[command].model_validate(data)
        return Planned(command, model.model_dump(mode="json"), self.principal, self.key(step))

    def _day(self, rng: random.Random) -> str:
        return (FIRST_DAY + timedelta(days=rng.randrange(DAYS))).isoformat()

    def valid(self, rng: random.Random, name: str, step: int) -> Planned:
        fx, st = self.fixture, self.state
        matter = rng.choice(sorted(fx.matters))
        end = (FIRST_DAY + timedelta(days=DAYS - 1)).isoformat()
        if name == "correct_time" and st.entries:
            matter, entry = rng.choice(st.entries)
            return self._p(step, name, matter_id=matter, entry_id=entry,
                           minutes=rng.randint(1, 240), reason=REASON,
                           corrected_on=end)
        if name == "void_entry" and st.entries:
            matter, entry = rng.choice(st.entries)
            return self._p(step, name, matter_id=matter, entry_id=entry, reason=REASON,
                           voided_on=end)
        if name == "log_expense":
            return self._p(step, name, matter_id=matter, spent_on=self._day(rng),
                           description="courier", amount_minor=rng.randint(100, 50_000),
                           currency=fx.currency)
        if name == "draft_invoice" or (name in ("issue_invoice", "write_down")
                                       and not st.drafts):
            return self._p(step, "draft_invoice", matter_id=matter,
                           period_start=FIRST_DAY.isoformat(), period_end=end, drafted_on=end)
        if name == "write_down":
            return self._p(step, name, invoice_id=rng.choice(st.drafts), line_no=1,
                           amount_minor=rng.randint(1, 500), reason=REASON,
                           written_down_on=end)
        if name == "issue_invoice":
            return self._p(step, name, invoice_id=st.drafts[-1], issued_on=end)
        if name == "void_invoice" and st.issued:
            return self._p(step, name, invoice_id=rng.choice(st.issued), reason=REASON,
                           voided_on=end)
        if name in ("record_trust_deposit", "record_trust_disbursement"):
            return self.trust(rng, name, step, matter)
        shared = self.recent_issued()
        if name in ("write_off", "issue_credit_note") and shared:
            invoice = rng.choice(shared)
            balance = self.open_balance(invoice)
            amount = max(1, rng.choice([balance // 10, balance // 3, balance, balance + 1]))
            if name == "write_off":
                return self._p(step, name, invoice_id=invoice, amount_minor=amount,
                               reason=REASON, approved_by=self.principal, written_off_on=end)
            return self._p(step, name, invoice_id=invoice, amount_minor=amount,
                           reason=REASON, issued_on=end)
        if name == "allocate_payment" and st.payments and shared:
            invoice = rng.choice(shared)
            amount = max(1, rng.choice([self.open_balance(invoice) // 2, 1_000, 50_000]))
            return self._p(step, name, payment_id=rng.choice(st.payments),
                           allocations=[{"invoice_id": invoice, "amount_minor": amount}],
                           allocated_on=end)
        if name in ("record_payment", "allocate_payment", "write_off", "issue_credit_note"):
            client = fx.matters[matter]
            allocations: list[dict[str, Any]] = []
            amount = rng.randint(1_000, 400_000)
            if shared and rng.random() < 0.7:
                invoice = rng.choice(shared)
                balance = self.open_balance(invoice)
                part = max(1, min(amount, rng.choice([balance, balance // 2, balance + 1])))
                amount = max(amount, part)
                allocations.append({"invoice_id": invoice, "amount_minor": part})
                client = ""  # the invoice's own client (a different one is refused)
            return self._p(step, "record_payment",
                           client_id=client or self._client_of(shared_invoice=allocations),
                           amount_minor=amount, currency=fx.currency,
                           method=rng.choice(["card", "ach", "wire", "check"]),
                           reference=f"H-{step}", received_on=self._day(rng),
                           allocations=allocations)
        return self._p(step, "log_time", matter_id=matter,
                       timekeeper_id=rng.choice(fx.timekeepers), work_on=self._day(rng),
                       minutes=rng.randint(6, 300), narrative="harness work",
                       billable=rng.random() < 0.9)

    def trust(self, rng: random.Random, name: str, step: int, matter: str) -> Planned:
        """A deposit, or a disbursement that may exceed what the matter holds."""
        fx = self.fixture
        common = {"account_id": fx.trust_account, "client_id": fx.matters[matter],
                  "matter_id": matter, "currency": fx.currency}
        if name == "record_trust_deposit":
            return self._p(step, name, **common, amount_minor=rng.randint(10_000, 300_000),
                           payor="Harness Payor", purpose="retainer",
                           reference=f"D-{self.index}-{step}", received_on=self._day(rng))
        wire = rng.random() < 0.3
        end = (FIRST_DAY + timedelta(days=DAYS - 1)).isoformat()
        return self._p(step, name, **common,
                       amount_minor=rng.choice([rng.randint(1_000, 50_000),
                                                rng.randint(50_000, 400_000)]),
                       payee="Harness Payee", purpose="filing fees",
                       method="wire" if wire else "check", reference=f"C-{self.index}-{step}",
                       authorised_by=self.principal,
                       authorisation_memo=f"MEMO-{step}" if wire else None,
                       paid_on=rng.choice([self._day(rng), end]))

    def _client_of(self, shared_invoice: list[dict[str, Any]]) -> str:
        found = self.invoice(shared_invoice[0]["invoice_id"])
        if found is None or found.client_id is None:
            return self.fixture.clients[0]
        return str(found.client_id)

    def invalid(self, rng: random.Random, step: int) -> Planned:
        """A command the ledger must refuse, with the refusal types it may give."""
        fx, st = self.fixture, self.state
        end = (FIRST_DAY + timedelta(days=DAYS - 1)).isoformat()
        matter = rng.choice(sorted(fx.matters))
        kind = rng.randrange(10)
        planned: Planned
        if kind == 0:
            planned = self._p(step, "record_payment", client_id=fx.clients[0],
                              amount_minor=1_000, currency="EUR", method="wire",
                              reference="wrong currency", received_on=end)
            planned.expect = ("currency-mismatch",)
        elif kind == 1:
            planned = self._p(step, "log_time", matter_id=fx.closed_matter,
                              timekeeper_id=fx.timekeepers[0], work_on=end, minutes=30,
                              narrative="on a closed matter")
            planned.expect = ("matter-closed",)
        elif kind == 2:
            planned = self._p(step, "log_time", matter_id=matter, timekeeper_id="NOBODY",
                              work_on=end, minutes=30, narrative="unknown timekeeper")
            planned.expect = ("unknown-timekeeper",)
        elif kind == 3:
            planned = self._p(step, "log_time", matter_id=matter,
                              timekeeper_id=fx.timekeepers[0], work_on=end, minutes=30,
                              narrative="without access")
            planned.principal, planned.roles = f"outsider-w{self.index}", ()
            planned.expect = ("access-denied",)
        elif kind == 4:
            planned = self._p(step, "draft_invoice", matter_id=str(UUID(int=rng.getrandbits(128))),
                              period_start=FIRST_DAY.isoformat(), period_end=end,
                              drafted_on=end)
            planned.expect = ("matter-not-found",)
        elif kind == 5 and st.issued:
            planned = self._p(step, "issue_invoice", invoice_id=rng.choice(st.issued),
                              issued_on=end)
            planned.expect = ("invoice-not-draft",)
        elif kind == 6 and st.payments:
            planned = self._p(step, "allocate_payment", payment_id=rng.choice(st.payments),
                              allocations=[{"invoice_id": rng.choice(self.recent_issued() or [
                                  str(UUID(int=1))]), "amount_minor": 10**12}],
                              allocated_on=end)
            planned.expect = ("allocation-exceeds-payment", "allocation-exceeds-balance",
                              "invoice-not-found", "invoice-not-issued", "client-mismatch")
        elif kind == 7 and st.acked:
            # The key of an earlier acknowledged command, with another payload.
            _, original, _ = rng.choice(st.acked)
            planned = self._p(step, "log_time", matter_id=matter,
                              timekeeper_id=fx.timekeepers[0], work_on=end, minutes=7,
                              narrative="key reused")
            planned.key = original.key
            planned.payload = {**planned.payload, "idempotency_key": original.key}
            planned.expect = ("idempotency-conflict",)
        elif kind == 8:
            planned = self.trust(rng, "record_trust_disbursement", step, matter)
            planned.payload = {**planned.payload, "amount_minor": 10**12}
            planned.expect = ("trust-overdraft",)
        else:
            planned = self._p(step, "write_off", invoice_id=str(UUID(int=rng.getrandbits(128))),
                              amount_minor=10, reason=REASON, approved_by=self.principal,
                              written_off_on=end)
            planned.expect = ("invoice-not-found",)
        return planned

    # -- sending ----------------------------------------------------------------

    def send(self, planned: Planned) -> tuple[str, Record]:
        model = COMMAND_MODELS[planned.command].model_validate(planned.payload)
        who = Principal(id=planned.principal, roles=frozenset(planned.roles))  # type: ignore[arg-type]
        started = time.monotonic()
        last = ""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            if time.monotonic() - started > RETRY_SECONDS:
                break
            try:
                result = getattr(self.open_service(), planned.command)(who, model)
            except LedgerError as exc:
                if is_infrastructure(exc):
                    last = type(exc).__name__
                else:
                    return "refused", {"type": exc.type, "field": exc.field,
                                       "attempts": attempt}
            except Exception as exc:
                if not is_infrastructure(exc):
                    return "unexpected", {"error": type(exc).__name__,
                                          "message": str(exc)[:300], "attempts": attempt}
                last = type(exc).__name__
            else:
                return "ack", {"result": dict(result.data), "attempts": attempt}
            self.reset()
            time.sleep(min(0.05 * 2 ** min(attempt, 5), 1.0))
        return "unknown", {"error": last}

    def run(self) -> None:
        records = read_journal(self.journal.path)
        intents: dict[int, Record] = {}
        outcomes: dict[int, Record] = {}
        for r in records:
            if r["t"] != "resume":
                (intents if r["t"] == "intent" else outcomes)[r["step"]] = r
        for step in sorted(intents):
            planned = planned_from(intents[step])
            out = outcomes.get(step)
            if out is not None and out["t"] == "ack":
                self.state.learn(step, planned, out["result"])
            elif out is not None and out["t"] == "refused":
                self.state.forget_draft(planned, out["type"])
        pending = [s for s in intents if s not in outcomes]
        next_step = max(intents, default=0) + 1
        try:
            for step in sorted(pending):  # the command in flight when the last writer died
                self.journal.append({"t": "resume", "step": step})
                self.finish(step, planned_from(intents[step]))
            for step in range(next_step, next_step + MAX_STEPS):
                if time.time() >= self.fixture.deadline:
                    break
                planned = self.plan(step)
                self.journal.append({"t": "intent", "step": step, "command": planned.command,
                                     "principal": planned.principal, "key": planned.key,
                                     "roles": list(planned.roles), "payload": planned.payload,
                                     "expect": list(planned.expect),
                                     "repeat_of": planned.repeat_of})
                self.finish(step, planned)
        finally:
            self.reset()
            self.journal.close()

    def finish(self, step: int, planned: Planned) -> None:
        outcome, data = self.send(planned)
        self.journal.append({"t": outcome, "step": step, "command": planned.command,
                             "principal": planned.principal, "key": planned.key, **data})
        if outcome == "ack":
            self.state.learn(step, planned, data["result"])
        elif outcome == "refused":
            self.state.forget_draft(planned, data["type"])


def planned_from(intent: Record) -> Planned:
    return Planned(intent["command"], intent["payload"], intent["principal"], intent["key"],
                   roles=tuple(intent.get("roles", ("firm_admin",))),
                   expect=tuple(intent.get("expect", ())), repeat_of=intent.get("repeat_of"))


def writer_main(workdir: str, index: int) -> None:
    """Entry point of a writer process (``multiprocessing`` spawn target)."""
    import logging

    logging.disable(logging.CRITICAL)
    Writer(Path(workdir), index).run()
