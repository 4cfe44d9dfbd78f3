"""Shared set-up of the HTTP tests: the app on a real firm ledger, keys, seed data."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient

from ledger.api import ApiConfig, create_app
from ledger.api.keys import KeyStore
from ledger.store.firm import FirmStore

CLIENT_NAME = "Hawthorne Biotech Ltd"
CONTACT = "cfo@hawthorne.example"
MATTER_TITLE = "Hawthorne v. Regulator (privileged)"
NARRATIVE = "Drafted settlement memo on the undisclosed merger"
OTHER_NAME = "Quillfeather Shipping"
CONFIDENTIAL = (CLIENT_NAME, CONTACT, MATTER_TITLE, NARRATIVE, OTHER_NAME, "Hawthorne",
                "merger", "Quillfeather")
_keys = itertools.count(1)


def idem() -> str:
    return f"api-test-{next(_keys):08d}"


@dataclass
class Api:
    client: TestClient
    store: FirmStore
    tokens: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)

    def key(self, principal: str, role: str, timekeeper: str | None = None) -> str:
        token, _ = KeyStore(self.store).create(principal, role, created_by="test",
                                               timekeeper_id=timekeeper)
        self.tokens[principal] = token
        return token

    def auth(self, principal: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[principal]}"}

    def post(self, principal: str, path: str, body: dict[str, Any],
             key: str | None = None) -> Any:
        return self.client.post(path, json=body, headers={
            **self.auth(principal), "Idempotency-Key": key or idem()})

    def get(self, principal: str, path: str, **params: Any) -> Any:
        return self.client.get(path, params=params, headers=self.auth(principal))

    def ok(self, principal: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.post(principal, path, body)
        assert response.status_code == 201, response.text
        data: dict[str, Any] = response.json()
        return data


def make_api(store: FirmStore, **config: Any) -> Iterator[Api]:
    app = create_app(store, ApiConfig(access_linger_seconds=0.01, **config))
    with TestClient(app) as client:
        yield Api(client, store)


def seed(api: Api) -> Api:
    """A firm with two clients, a matter each, time, an issued invoice and a payment."""
    api.key("admin", "firm_admin")
    api.ok("admin", "/v1/firm/setup", {"currency": "USD", "invoice_prefix": "INV-",
                                       "effective_on": "2024-01-01"})
    api.ok("admin", "/v1/timekeepers", {"timekeeper_id": "tk1", "name": "Pat Partner",
                                        "title": "PARTNR", "default_rate_minor_per_hour": 50000,
                                        "effective_on": "2024-01-01"})
    for name, tag in ((CLIENT_NAME, "c1"), (OTHER_NAME, "c2")):
        cid = api.ok("admin", "/v1/clients", {
            "name": name, "billing_contact": CONTACT, "currency": "USD",
            "payment_terms_days": 30, "effective_on": "2024-01-02"})["client_id"]
        api.ids[tag] = cid
        api.ids["m" + tag[1]] = api.ok("admin", f"/v1/clients/{cid}/matters", {
            "title": MATTER_TITLE, "opened_on": "2024-01-03"})["matter_id"]
    m1 = api.ids["m1"]
    api.ids["e1"] = api.ok("admin", f"/v1/matters/{m1}/time-entries", {
        "timekeeper_id": "tk1", "work_on": "2024-01-10", "minutes": 90,
        "narrative": NARRATIVE})["entry_id"]
    inv = api.ok("admin", f"/v1/matters/{m1}/invoices", {
        "period_start": "2024-01-01", "period_end": "2024-01-31",
        "drafted_on": "2024-01-31"})["invoice_id"]
    api.ids["i1"] = inv
    api.ok("admin", f"/v1/invoices/{inv}/issue", {"issued_on": "2024-02-01"})
    api.ok("admin", f"/v1/matters/{m1}/time-entries", {
        "timekeeper_id": "tk1", "work_on": "2024-02-10", "minutes": 30,
        "narrative": NARRATIVE})
    api.ids["p1"] = api.ok("admin", "/v1/payments", {
        "client_id": api.ids["c1"], "amount_minor": 20000, "currency": "USD",
        "method": "wire", "reference": "W-1", "received_on": "2024-02-15",
        "allocations": [{"invoice_id": inv, "amount_minor": 20000}]})["payment_id"]
    return api


def grant(api: Api, principal: str, role: str, scope_id: str, scope: str = "client",
          expires_on: str | None = None) -> str:
    body: dict[str, Any] = {"principal_id": principal, "scope": scope, "scope_id": scope_id,
                            "role": role, "reason": "engagement team"}
    if expires_on:
        body["expires_on"] = expires_on
    return str(api.ok("admin", "/v1/access-grants", body)["grant_id"])
