"""The trust books, folded from the log on demand (live, or as of a moment).

Why folded per request and not kept in tracked tables: trust activity is small
(tens of events a day per account), every trust report needs the whole
account's history up to a date (running balances, matching against bank
statements), and a signed reconciliation must be reproducible from the log
alone. So a report reads the trust events (and ``trust`` payments) up to one
position - the head when live, the last position recorded at or before
``as_of`` otherwise (``projections.asof.position_at``) - and folds them here.
The same prefix always gives the same books, so an as-of report is exactly the
report as it would have been printed at that moment.

Each movement of money becomes one ``Line``: ``amount_minor`` is its effect on
the client/matter ledger (or on the firm ledger when ``client_id`` is None),
``journal_minor`` its effect on the bank (0 for transfers between matters).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic
from psycopg.sql import SQL, Identifier

from ledger.codec import MsgspecTranscoder, TypedMapper
from ledger.crypto.sealing import sealing_for_store
from ledger.domain.client import ClientOnboarded
from ledger.domain.payment import PaymentReceived
from ledger.domain.trust import events as ev
from ledger.domain.trust.reconcile import JournalItem
from ledger.store.firm import FirmStore
from projections.asof import position_at

TOPICS = [get_topic(cls) for cls in (*ev.TRUST_EVENTS, *ev.SIGNER_EVENTS, PaymentReceived,
                                      ClientOnboarded)]


@dataclass
class Line:
    position: int
    account_id: UUID
    on: date
    kind: str
    client_id: UUID | None
    matter_id: UUID | None
    amount_minor: int
    journal_minor: int
    reference: str
    entry_id: str
    purpose: str = ""
    party: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"date": str(self.on), "kind": self.kind, "entry_id": self.entry_id,
                "client_id": _s(self.client_id), "matter_id": _s(self.matter_id),
                "reference": self.reference, "purpose": self.purpose, "party": self.party,
                "amount_minor": self.amount_minor, **self.detail}


def _s(value: Any) -> str | None:
    return None if value is None else str(value)


@dataclass
class TrustBooks:
    position: int
    as_of: datetime | None
    accounts: dict[UUID, dict[str, Any]] = field(default_factory=dict)
    lines: list[Line] = field(default_factory=list)
    statements: dict[UUID, list[ev.BankStatementImported]] = field(default_factory=dict)
    reconciliations: list[tuple[UUID, ev.TrustReconciliationCompleted]] = field(
        default_factory=list)
    requests: list[tuple[UUID, ev.TrustReplenishmentRequested]] = field(default_factory=list)
    disputes: dict[UUID, dict[str, Any]] = field(default_factory=dict)
    trust_payments: dict[UUID, PaymentReceived] = field(default_factory=dict)
    signers: dict[UUID, dict[str, dict[str, Any]]] = field(default_factory=dict)
    client_names: dict[UUID, str] = field(default_factory=dict)

    def meta(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat() if self.as_of else None,
                "position": self.position}

    def account_lines(self, account_id: UUID, on: date = date.max) -> list[Line]:
        """The account's lines dated on or before ``on``, in date then recording order."""
        return sorted((ln for ln in self.lines if ln.account_id == account_id and ln.on <= on),
                      key=lambda ln: (ln.on, ln.position))

    def journal(self, account_id: UUID) -> list[JournalItem]:
        return [JournalItem(ln.entry_id, ln.on, ln.kind, ln.journal_minor, ln.reference)
                for ln in self.account_lines(account_id) if ln.journal_minor]


def load_books(store: FirmStore, as_of: datetime | None = None) -> TrustBooks:
    """Fold every trust event up to the head, or up to ``as_of``'s position."""
    s, t = Identifier(store.schema), Identifier(store.events_table)
    with store.location.connect() as conn:
        if as_of is None:
            row = conn.execute(SQL("SELECT coalesce(max(notification_id), 0) FROM {s}.{t}"
                                   ).format(s=s, t=t)).fetchone()
            position = int(row[0]) if row else 0
        else:
            position = position_at(conn, store, as_of)
        rows = conn.execute(SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state "
            "FROM {s}.{t} WHERE notification_id <= %s AND topic = ANY(%s) "
            "ORDER BY notification_id").format(s=s, t=t), (position, TOPICS),
            binary=True).fetchall()
    mapper = TypedMapper(transcoder=MsgspecTranscoder())
    opener = _opener(store)
    books = TrustBooks(position, as_of)
    for pos, oid, version, topic, state in rows:
        event = mapper.to_domain_event(StoredEvent(
            originator_id=oid, originator_version=version, topic=topic, state=bytes(state)))
        sealed = getattr(event, "confidential", None)
        confidential = opener(sealed, originator_id=oid, originator_version=version,
                              topic=topic, client_id=getattr(event, "client_id", None) or oid
                              ) if sealed else {}
        fold(books, pos, oid, event, confidential)
    return books


def _opener(store: FirmStore) -> Callable[..., dict[str, str]]:
    """Opens sealed confidential values with the firm's client keys (``[erased]`` once a
    client's key is destroyed); values stored unsealed are returned as they are."""
    opened: Callable[..., dict[str, str]] = sealing_for_store(store).open
    return opened


def fold(books: TrustBooks, pos: int, account: UUID, e: Any,
         confidential: dict[str, str]) -> None:
    """Apply one event (its confidential values already opened) to the books (pure)."""
    def add(kind: str, client: UUID | None, matter: UUID | None, amount: int, journal: int,  # noqa: PLR0917
            reference: str, entry: UUID, **extra: Any) -> None:
        books.lines.append(Line(pos, account, e.effective_on, kind, client, matter, amount,
                                journal, reference, str(entry), **extra))

    match e:
        case ClientOnboarded():  # ``account`` is the client here; "[erased]" once shredded
            books.client_names[account] = confidential.get("name", "")
        case PaymentReceived():
            if e.method == "trust":
                books.trust_payments[e.originator_id] = e
        case ev.TrustAccountOpened():
            books.accounts[account] = {
                "account_id": str(account), "currency": e.currency, "iolta": e.iolta,
                "jurisdiction": e.jurisdiction, "opened_on": str(e.effective_on),
                "bank": confidential.get("bank", ""),
                "bank_charge_cushion_minor": e.bank_charge_cushion_minor}
        case ev.TrustDepositRecorded():
            add("deposit", e.client_id, e.matter_id, e.amount_minor, e.amount_minor,
                e.reference, e.deposit_id, purpose=e.purpose,
                party=confidential.get("payor", ""))
        case ev.TrustDepositReversed():
            add("deposit_reversed", e.client_id, e.matter_id, -e.amount_minor,
                -e.amount_minor, e.reference, e.deposit_id, purpose=e.reason)
        case ev.TrustDisbursementRecorded():
            add("disbursement", e.client_id, e.matter_id, -e.amount_minor, -e.amount_minor,
                e.reference, e.disbursement_id, purpose=e.purpose,
                party=confidential.get("payee", ""),
                detail={"method": e.method, "authorised_by": e.authorised_by,
                        "authorisation_memo": e.authorisation_memo})
        case ev.TrustTransferredToOperating():
            add("transfer_to_operating", e.client_id, e.matter_id, -e.amount_minor,
                -e.amount_minor, e.reference, e.transfer_id, purpose=e.basis,
                party="operating account",
                detail={"invoice_id": _s(e.invoice_id), "payment_id": _s(e.payment_id),
                        "client_notice_sent_on": str(e.client_notice_sent_on),
                        "notice_reference": e.notice_reference})
        case ev.TrustTransferredBetweenMatters():
            consent = {"client_consent_ref": e.client_consent_ref,
                       "consent_on": str(e.consent_on)}
            add("transfer_out", e.from_client_id, e.from_matter_id, -e.amount_minor, 0,
                e.client_consent_ref, e.transfer_id, detail={
                    **consent, "to_matter_id": str(e.to_matter_id)})
            add("transfer_in", e.to_client_id, e.to_matter_id, e.amount_minor, 0,
                e.client_consent_ref, e.transfer_id, detail={
                    **consent, "from_matter_id": str(e.from_matter_id)})
        case ev.TrustTransferredBetweenClients():
            direction = {"cross_client": True, "direction_ref": e.direction_ref,
                         "direction_on": str(e.direction_on), "approved_by": e.approved_by,
                         "authorised_by": e.authorised_by}
            add("transfer_out", e.from_client_id, e.from_matter_id, -e.amount_minor, 0,
                e.direction_ref, e.transfer_id, detail={
                    **direction, "to_client_id": str(e.to_client_id),
                    "to_matter_id": str(e.to_matter_id)})
            add("transfer_in", e.to_client_id, e.to_matter_id, e.amount_minor, 0,
                e.direction_ref, e.transfer_id, detail={
                    **direction, "from_client_id": str(e.from_client_id),
                    "from_matter_id": str(e.from_matter_id)})
        case ev.FirmCoveredShortfall():
            add("firm_cover", e.client_id, e.matter_id, e.amount_minor, e.amount_minor,
                e.reference, e.entry_id, purpose="returned deposit covered by the firm")
        case ev.TrustSignerAdded():
            books.signers.setdefault(account, {})[e.principal_id] = {
                "principal_id": e.principal_id, "firm_admin": e.firm_admin,
                "added_on": str(e.effective_on), "added_by": e.actor}
        case ev.TrustSignerRemoved():
            books.signers.setdefault(account, {}).pop(e.principal_id, None)
        case ev.FirmFundsDeposited():
            add("firm_funds", None, None, e.amount_minor, e.amount_minor, e.reference,
                e.entry_id, purpose="bank charges")
        case ev.BankChargeRecorded():
            add("bank_charge", None, None, -e.amount_minor, -e.amount_minor, e.reference,
                e.entry_id, purpose=e.description)
        case ev.BankStatementImported():
            books.statements.setdefault(account, []).append(e)
        case ev.TrustReconciliationCompleted():
            books.reconciliations.append((account, e))
        case ev.TrustReplenishmentRequested():
            books.requests.append((account, e))
        case ev.TrustFundsDisputed():
            books.disputes[e.dispute_id] = {
                "dispute_id": str(e.dispute_id), "account_id": str(account),
                "client_id": str(e.client_id), "matter_id": str(e.matter_id),
                "amount_minor": e.amount_minor, "disputed_on": str(e.effective_on),
                "resolved_on": None}
        case ev.TrustDisputeResolved():
            books.disputes[e.dispute_id]["resolved_on"] = str(e.effective_on)
