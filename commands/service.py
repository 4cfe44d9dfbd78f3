"""``BillingService``: the one object that services, tests and the command line
call to record billing actions and ask the simple questions the demo needs.

It has one method per row of the command registry (``commands.registry``),
named like the command: ``service.log_time(principal, LogTime(...))`` is
``service.run("log_time", principal, command)``. Each takes the acting principal
and a validated command model and goes through :meth:`BillingService.execute`,
which

1. returns the stored result if this principal already ran a command with this
   idempotency key (and refuses the key if the payload differs);
2. runs the handler on freshly loaded aggregates (a refusal raises, nothing is
   recorded);
3. saves the changed aggregates together with the command's record in one
   transaction; on an optimistic-concurrency conflict it retries from step 1,
   a bounded number of times.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any
from uuid import UUID

from eventsourcing.application import LRUCache
from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import get_topic

from commands import models as m
from commands.auth import Principal, require_grant
from commands.decision import Handler
from commands.errors import ConcurrentUpdateError, IdempotencyConflictError, InvalidCommandError
from commands.fingerprint import Fingerprints, client_of, message
from commands.ledger_app import BillingLedger, Context, ledger_env
from commands.registry import COMMANDS
from ledger.crypto import fingerprint as fp
from ledger.crypto.sealing import sealing_for_store
from ledger.domain.command_record import CommandRecord, ResultData
from ledger.domain.invoice import Invoice, InvoiceDrafted
from ledger.domain.payment import Payment, PaymentReceived
from ledger.settings import Settings
from ledger.store.firm import FirmStore
from ledger.store.memory import MemoryStore

MAX_ATTEMPTS = 50


@dataclass(frozen=True)
class CommandResult:
    """What a command produced (ids, numbers, amounts), the same on every repeat."""

    command: str
    data: ResultData

    def __getitem__(self, key: str) -> str | int:
        return self.data[key]


CommandMethod = Callable[[Principal, m.Command], CommandResult]


def payload_sha256(name: str, command: m.Command) -> str:
    """The old unkeyed fingerprint (ledgers written before keyed fingerprints hold it)."""
    return fp.sha256(message(name, command))


class BillingService:
    """A firm's billing ledger, recorded through commands."""

    def __init__(self, store: FirmStore | MemoryStore, *,
                 max_attempts: int = MAX_ATTEMPTS, aggregate_cache: int | None = None) -> None:
        """``aggregate_cache``: aggregates kept between commands (``LEDGER_AGGREGATE_CACHE``
        when None, 0 for none), so a command's cost does not grow with a stream's length."""
        self.store = store
        size = Settings().aggregate_cache if aggregate_cache is None else aggregate_cache
        self.app = BillingLedger(env=ledger_env(store, aggregate_cache=size))
        self.max_attempts = max_attempts

    def forget_cached(self) -> None:
        """Drop every cached aggregate (after an erasure: a cached matter holds opened
        narratives, which must now load as erased)."""
        cache = self.app.repository.cache
        if isinstance(cache, LRUCache):
            self.app.repository.cache = LRUCache(maxsize=cache.maxsize)

    def close(self) -> None:
        self.app.close()

    def __enter__(self) -> BillingService:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- the command pipeline ------------------------------------------------------

    @property
    def fingerprints(self) -> Fingerprints:
        """Keyed with the firm's key store (``commands.fingerprint``); unkeyed in memory.
        Looked up on each use, like the field sealer's engine: a cached engine may
        have been evicted and closed since."""
        if isinstance(self.store, FirmStore):
            return Fingerprints(sealing_for_store(self.store).keys)
        return Fingerprints(None)

    def execute(self, name: str, handler: Handler, who: Principal,
                command: m.Command) -> CommandResult:
        for attempt in range(self.max_attempts):
            ctx = Context(self.app)
            record = ctx.command_record(who.id, command.idempotency_key)
            if record is not None:
                if record.command != name or not self.fingerprints.matches(
                        record.payload_sha256, name, command):
                    raise IdempotencyConflictError(
                        "this idempotency key was used for a different command",
                        field="idempotency_key",
                    )
                return CommandResult(name, record.result)
            decision = handler(ctx, who, command)
            digest = self.fingerprints.make(name, command, client_of(decision))
            accepted = CommandRecord.accept(
                actor=who.id, effective_on=datetime.now(UTC).date(),
                idempotency_key=command.idempotency_key, command=name,
                payload_sha256=digest, result=decision.result,
            )
            try:
                self.app.save(*decision.aggregates, accepted)
            except IntegrityError:
                time.sleep(random.uniform(0, 0.002 * (attempt + 1)))  # noqa: S311 - jitter
                continue
            return CommandResult(name, decision.result)
        raise ConcurrentUpdateError(
            f"gave up after {self.max_attempts} conflicting attempts; try again",
            field="idempotency_key",
        )

    # -- commands: one per row of ``commands.registry`` --------------------------

    def run(self, command_name: str, who: Principal, command: m.Command) -> CommandResult:
        """Run the registry's command ``command_name`` (what every entry point calls)."""
        spec = COMMANDS.get(command_name)
        if spec is None:
            raise AttributeError(f"no command named {command_name!r}")
        if not isinstance(command, spec.model):
            raise InvalidCommandError(f"{command_name} takes a {spec.model.__name__}",
                                      field="command")
        if spec.run is not None:
            return spec.run(self, who, command)
        assert spec.handler is not None
        return self.execute(spec.name, spec.handler, who, command)

    def __getattr__(self, name: str) -> CommandMethod:
        """``service.log_time(principal, LogTime(...))``: one method per registry row,
        looked up when called, so a new row is a new method with nothing else to edit."""
        if name.startswith("_") or name not in COMMANDS:
            raise AttributeError(f"{type(self).__name__!r} has no attribute {name!r}")
        return partial(self.run, name)

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *COMMANDS})

    # -- the write side's own view of balances ----------------------------------------
    #
    # One source for the figures people see: the read model (``rm_invoices``,
    # ``rm_statement_lines``), caught up to the head before a read. The API, the
    # reports and ``ledger clients balance`` / ``ledger invoices show`` all answer from
    # it, so they agree with each other and with an as-of replay of the same events.
    #
    # The helpers below answer from the aggregates instead, by scanning the chain: the
    # write side may not import the read side, and a command's rule (an allocation, a
    # write-off, a credit note against the open balance) must be checked on the
    # aggregate it loads and saves under optimistic concurrency, never on a table that
    # may lag. They serve the demo, scripts and tests that compare both sides; both use
    # the one formula, ``ledger.domain.invoice.open_balance``, so they cannot disagree
    # once the read model has caught up.

    def event_count(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    def _originators(self, event_class: type, **where: Any) -> list[UUID]:
        found: list[UUID] = []
        start, topic = 1, get_topic(event_class)
        while True:
            page = self.app.recorder.select_notifications(start, 500, topics=[topic])
            for notification in page:
                event = self.app.mapper.to_domain_event(notification)
                if all(getattr(event, k) == v for k, v in where.items()):
                    assert isinstance(notification.originator_id, UUID)
                    found.append(notification.originator_id)
            if len(page) < 500:
                return found
            start = page[-1].id + 1

    def _read(self, who: Principal, client_id: UUID) -> Context:
        ctx = Context(self.app)
        ctx.client(client_id)
        require_grant(who, ctx.access(who.id), "read", client_id=client_id)
        return ctx

    def require_read(self, who: Principal, client_id: UUID) -> None:
        """Refuse unless the client exists and the principal may read its billing data."""
        self._read(who, client_id)

    def invoices(self, who: Principal, client_id: UUID) -> list[Invoice]:
        ctx = self._read(who, client_id)
        return [ctx.invoice(i) for i in self._originators(InvoiceDrafted, client_id=client_id)]

    def payments(self, who: Principal, client_id: UUID) -> list[Payment]:
        ctx = self._read(who, client_id)
        return [ctx.payment(p) for p in self._originators(PaymentReceived, client_id=client_id)]

    def client_open_balance(self, who: Principal, client_id: UUID) -> int:
        """What the client owes: the sum of its issued invoices' open balances."""
        return sum(i.open_balance_minor for i in self.invoices(who, client_id))

    def client_unapplied_credit(self, who: Principal, client_id: UUID) -> int:
        """Money received from the client and not allocated to any invoice."""
        return sum(p.unapplied_minor for p in self.payments(who, client_id))

    def invoice(self, who: Principal, invoice_id: UUID) -> Invoice:
        invoice = Context(self.app).invoice(invoice_id)
        require_grant(who, Context(self.app).access(who.id), "read",
                      client_id=invoice.client_id, matter_id=invoice.matter_id)
        return invoice

    def invoice_state(self, who: Principal, invoice_id: UUID) -> dict[str, str | int | None]:
        invoice = self.invoice(who, invoice_id)
        return {
            "invoice_id": str(invoice.id), "status": invoice.status, "number": invoice.number,
            "currency": invoice.currency, "total_minor": invoice.total_minor
            if invoice.status != "draft" else invoice.lines_total_minor,
            "paid_minor": invoice.paid_minor, "credited_minor": invoice.credited_minor,
            "written_off_minor": invoice.written_off_minor,
            "open_balance_minor": invoice.open_balance_minor,
            "due_on": str(invoice.due_on) if invoice.due_on else None,
        }
