"""Every role's allowed and refused routes (table-driven), and grants checked per request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ledger.api.keys import KeyStore
from ledger.api.problems import PROBLEM_BASE
from tests.support.api import NARRATIVE, Api, grant, seed

ROLES = ("firm_admin", "billing_clerk", "timekeeper", "auditor", "client")
A, C, T, U, L = ROLES  # admin, clerk, timekeeper, auditor, client (portal)
NOW = datetime.now(UTC)
WINDOW = {"from": (NOW - timedelta(days=1)).isoformat(),
          "to": (NOW + timedelta(days=1)).isoformat()}

# (method, path template, body or query, roles allowed)
ROUTES: list[tuple[str, str, dict[str, Any], set[str]]] = [
    ("GET", "/v1/me", {}, {A, C, T, U, L}),
    ("GET", "/v1/clients", {}, {A, C, T, U}),
    ("GET", "/v1/clients/{c1}", {}, {A, C, T, U, L}),
    ("GET", "/v1/matters", {}, {A, C, T, U}),
    ("GET", "/v1/matters/{m1}", {}, {A, C, T, U}),
    ("GET", "/v1/unbilled-time", {}, {A, C, T, U}),
    ("GET", "/v1/invoices", {}, {A, C, U, L}),
    ("GET", "/v1/invoices/{i1}", {}, {A, C, U, L}),
    ("GET", "/v1/clients/{c1}/statement", {}, {A, C, U, L}),
    ("GET", "/v1/clients/{c1}/payments", {}, {A, C, U, L}),
    ("GET", "/v1/clients/{c1}/balance", {}, {A, C, U, L}),
    ("GET", "/v1/reports/aging", {}, {A, C, U}),
    ("GET", "/v1/reports/wip", {}, {A, C, U}),
    ("GET", "/v1/audit/write-offs", {}, {A, U}),
    ("GET", "/v1/audit/access-grants", {}, {A, U}),
    ("GET", "/v1/audit/verification", {}, {A, U}),
    ("GET", "/v1/audit/access/who", {"client_id": "{c1}", **WINDOW}, {A, U}),
    ("GET", "/v1/audit/access/what", {"principal_id": "p-client", **WINDOW}, {A, U}),
    ("POST", "/v1/matters/{m1}/time-entries", {
        "timekeeper_id": "tk1", "work_on": "2024-03-04", "minutes": 12,
        "narrative": NARRATIVE}, {A, C, T}),
    ("POST", "/v1/matters/{m1}/expenses", {
        "spent_on": "2024-03-04", "description": "Courier", "amount_minor": 1500,
        "currency": "USD"}, {A, C}),
    ("POST", "/v1/payments", {
        "client_id": "{c1}", "amount_minor": 100, "currency": "USD", "method": "check",
        "reference": "CHK-9", "received_on": "2024-03-05"}, {A, C}),
    ("POST", "/v1/clients", {
        "name": "New Co", "billing_contact": "ap@new.example", "currency": "USD",
        "payment_terms_days": 15}, {A}),
    ("POST", "/v1/access-grants", {
        "principal_id": "someone", "scope": "client", "scope_id": "{c1}",
        "role": "auditor", "reason": "annual audit"}, {A}),
]


def fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**ids) if "{" in value else value
    if isinstance(value, dict):
        return {k: fill(v, ids) for k, v in value.items()}
    return value


@pytest.fixture
def team(api: Api) -> Api:
    seed(api)
    for role in ROLES[1:]:
        principal = f"p-{role.rsplit('_', maxsplit=1)[-1]}"
        api.key(principal, role, timekeeper="tk1" if role == T else None)
        grant(api, principal, role, api.ids["c1"])
    api.tokens[f"p-{A.split('_')[-1]}"] = api.tokens["admin"]
    return api


def who(role: str) -> str:
    return f"p-{role.rsplit('_', maxsplit=1)[-1]}"


def call(api: Api, role: str, method: str, path: str, data: dict[str, Any]) -> Any:
    path, data = fill(path, api.ids), fill(data, api.ids)
    if method == "GET":
        return api.get(who(role), path, **data)
    return api.post(who(role), path, data)


@pytest.mark.parametrize(("method", "path", "data", "allowed"), ROUTES,
                         ids=[f"{m} {p}" for m, p, _, _ in ROUTES])
def test_each_role_on_each_route(team: Api, method: str, path: str, data: dict[str, Any],
                                 allowed: set[str]) -> None:
    for role in ROLES:
        response = call(team, role, method, path, data)
        if role in allowed:
            assert response.status_code in (200, 201), (role, response.text)
        else:
            assert response.status_code == 403, (role, response.text)
            assert response.json()["type"] == PROBLEM_BASE + "role-forbidden"


@pytest.mark.parametrize("role", [C, T, U, L])
def test_no_grant_no_data(team: Api, role: str) -> None:
    """Every non-admin role holds a grant on c1 only: c2 is refused, lists omit it."""
    c2, m2 = team.ids["c2"], team.ids["m2"]
    reads = {C: f"/v1/clients/{c2}/statement", T: f"/v1/matters/{m2}",
             U: f"/v1/clients/{c2}/balance", L: f"/v1/clients/{c2}/payments"}
    refused = team.get(who(role), reads[role])
    assert refused.status_code == 403
    assert refused.json()["type"] == PROBLEM_BASE + "access-denied"
    listing = "/v1/matters" if role == T else "/v1/invoices"
    items = team.get(who(role), listing).json()["items"]
    assert items and {i["client_id"] for i in items} == {team.ids["c1"]}


def test_timekeeper_logs_only_its_own_time(team: Api) -> None:
    team.ok("admin", "/v1/timekeepers", {"timekeeper_id": "tk2", "name": "Other",
                                         "title": "ASSOC", "default_rate_minor_per_hour": 1})
    body = {"timekeeper_id": "tk2", "work_on": "2024-03-04", "minutes": 6, "narrative": "x"}
    refused = team.post(who(T), f"/v1/matters/{team.ids['m1']}/time-entries", body)
    assert refused.status_code == 403
    assert refused.json()["field"] == "timekeeper_id"
    mine = team.ok(who(T), f"/v1/matters/{team.ids['m1']}/time-entries",
                   {**body, "timekeeper_id": "tk1"})
    fix = team.post(who(T), f"/v1/matters/{team.ids['m1']}/time-entries/{mine['entry_id']}"
                    "/corrections", {"minutes": 12, "reason": "typo fixed",
                                     "corrected_on": "2024-03-05"})
    assert fix.status_code == 201, fix.text
    clerk_entry = team.ok(who(C), f"/v1/matters/{team.ids['m1']}/time-entries", body)
    other = team.post(who(T), f"/v1/matters/{team.ids['m1']}/entries/"
                      f"{clerk_entry['entry_id']}/void",
                      {"reason": "not mine", "voided_on": "2024-03-05"})
    assert other.status_code == 403


def test_revoked_grant_is_refused_on_the_next_request(team: Api) -> None:
    path = f"/v1/clients/{team.ids['c1']}/statement"
    assert team.get(who(C), path).status_code == 200
    grants = team.get("admin", "/v1/audit/access-grants").json()["grants"]
    gid = next(g["grant_id"] for g in grants if g["principal_id"] == who(C))
    team.ok("admin", f"/v1/access-grants/{gid}/revoke",
            {"principal_id": who(C), "reason": "left the team"})
    refused = team.get(who(C), path)
    assert refused.status_code == 403
    assert refused.json()["type"] == PROBLEM_BASE + "access-denied"


def test_expired_grant_is_refused(api: Api) -> None:
    seed(api)
    today = datetime.now(UTC).date()
    api.key("p-short", "billing_clerk")
    api.key("p-long", "billing_clerk")
    grant(api, "p-short", "billing_clerk", api.ids["c1"], expires_on=str(today))
    grant(api, "p-long", "billing_clerk", api.ids["c1"],
          expires_on=str(today + timedelta(days=1)))
    path = f"/v1/clients/{api.ids['c1']}/balance"
    assert api.get("p-short", path).status_code == 403
    assert api.get("p-long", path).status_code == 200


def test_matter_grant_reaches_the_matter_not_the_client(api: Api) -> None:
    seed(api)
    api.key("p-m", "billing_clerk")
    grant(api, "p-m", "billing_clerk", api.ids["m1"], scope="matter")
    assert api.get("p-m", f"/v1/matters/{api.ids['m1']}").status_code == 200
    assert api.get("p-m", f"/v1/invoices/{api.ids['i1']}").status_code == 200
    assert api.get("p-m", f"/v1/clients/{api.ids['c1']}/statement").status_code == 403


def test_revoked_key_is_refused_on_the_next_request(team: Api) -> None:
    assert team.get(who(U), "/v1/me").status_code == 200
    keys = KeyStore(team.store)
    key_id = next(k.key_id for k in keys.list() if k.principal_id == who(U))
    keys.revoke(key_id, revoked_by="test")
    assert team.get(who(U), "/v1/me").status_code == 401
