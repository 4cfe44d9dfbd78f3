"""Handlers for clients: onboarding, and erasure of a client's confidential data
(crypto-shredding).

Order matters: the ``ClientDataErased`` event is recorded first (in the chain,
with the reason and the legal basis for keeping the financial record), then
the key store destroys the client's data keys. A crash between the two leaves
an erasure recorded but not yet carried out; running the command again
(same or new idempotency key) finds the client already erased, records
nothing new and destroys the keys. The reverse order could destroy keys with
no record of why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import uuid4

from commands import models as m
from commands.auth import Principal, require_admin
from commands.decision import Decision
from commands.ledger_app import Context
from ledger.crypto.sealing import forget_client, sealing_for_store
from ledger.domain.client import Client

if TYPE_CHECKING:
    from commands.service import BillingService, CommandResult


def onboard_client(ctx: Context, who: Principal, cmd: m.OnboardClient) -> Decision:
    require_admin(who, "onboard clients")
    ctx.firm()
    client = Client.onboard(client_id=uuid4(), actor=who.id, effective_on=cmd.effective_on,
                            name=cmd.name, billing_contact=cmd.billing_contact,
                            currency=cmd.currency, payment_terms_days=cmd.payment_terms_days)
    return Decision([client], {"client_id": str(client.id)})


def erase_client_data(service: BillingService, who: Principal,
                      cmd: m.EraseClientData) -> CommandResult:
    require_admin(who, "erase a client's data")
    keys = sealing_for_store(service.store).keys
    versions = tuple(keys.versions(cmd.client_id))

    def record(ctx: Context, who: Principal, cmd: m.EraseClientData) -> Decision:
        client = ctx.client(cmd.client_id)
        already = client.erased
        client.erase(actor=who.id, effective_on=cmd.erased_on, reason=cmd.reason,
                     legal_basis=cmd.legal_basis, key_versions=versions)
        return Decision([] if already else [client], {
            "client_id": str(client.id), "key_versions": ",".join(map(str, versions)),
            "already_erased": int(already)}, firm_keyed=True)

    result = service.execute("erase_client_data", record, who, cmd)
    keys.destroy(cmd.client_id, note=f"ClientDataErased; retained on: {cmd.legal_basis}")
    forget_client(service.store.schema, cmd.client_id)
    service.forget_cached()
    return result
