"""POST commands over HTTP: idempotent retries, 409 on key reuse, problem details."""

from __future__ import annotations

from ledger.api.problems import PROBLEM_BASE, PROBLEM_JSON
from tests.support.api import CONFIDENTIAL, Api, idem, seed


def event_count(api: Api) -> int:
    return api.store.head().position


def test_retry_with_same_key_returns_first_response_and_records_nothing(api: Api) -> None:
    seed(api)
    m1, key = api.ids["m1"], idem()
    body = {"timekeeper_id": "tk1", "work_on": "2024-03-01", "minutes": 42,
            "narrative": "Call with counsel"}
    first = api.post("admin", f"/v1/matters/{m1}/time-entries", body, key)
    assert first.status_code == 201
    before = event_count(api)
    again = api.post("admin", f"/v1/matters/{m1}/time-entries", body, key)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert event_count(api) == before


def test_same_key_with_another_body_is_409(api: Api) -> None:
    seed(api)
    m1, key = api.ids["m1"], idem()
    body = {"timekeeper_id": "tk1", "work_on": "2024-03-01", "minutes": 42,
            "narrative": "Call with counsel"}
    assert api.post("admin", f"/v1/matters/{m1}/time-entries", body, key).status_code == 201
    before = event_count(api)
    other = api.post("admin", f"/v1/matters/{m1}/time-entries", {**body, "minutes": 43}, key)
    assert other.status_code == 409
    assert other.headers["content-type"].startswith(PROBLEM_JSON)
    assert other.json()["type"] == PROBLEM_BASE + "idempotency-conflict"
    elsewhere = api.post("admin", f"/v1/matters/{api.ids['m2']}/time-entries", body, key)
    assert elsewhere.status_code == 409
    assert event_count(api) == before


def test_missing_idempotency_key_is_refused(api: Api) -> None:
    seed(api)
    response = api.client.post("/v1/clients", json={
        "name": "X", "billing_contact": "Y", "currency": "USD", "payment_terms_days": 1},
        headers=api.auth("admin"))
    assert response.status_code == 400
    assert response.json()["type"] == PROBLEM_BASE + "idempotency-key-required"


def test_problem_types_status_and_field(api: Api) -> None:
    seed(api)
    m1, i1 = api.ids["m1"], api.ids["i1"]
    cases = [
        ("/v1/payments", {"client_id": api.ids["c1"], "amount_minor": 12.5, "currency": "USD",
                          "method": "wire", "reference": "r", "received_on": "2024-03-01"},
         422, "invalid-request", "amount_minor"),
        (f"/v1/matters/{m1}/time-entries", {"timekeeper_id": "tk1", "work_on": "2024-03-01",
                                            "minutes": 30, "narrative": NARR, "bogus": 1},
         422, "invalid-request", "bogus"),
        ("/v1/matters/00000000-0000-0000-0000-000000000001/time-entries",
         {"timekeeper_id": "tk1", "work_on": "2024-03-01", "minutes": 30, "narrative": NARR},
         404, "matter-not-found", "matter_id"),
        (f"/v1/invoices/{i1}/write-offs", {"amount_minor": 10**12, "reason": "uncollectible",
                                           "approved_by": "admin",
                                           "written_off_on": "2024-03-01"},
         422, "write-off-exceeds-balance", "amount_minor"),
        (f"/v1/matters/{m1}/time-entries", {"timekeeper_id": "nobody", "work_on": "2024-03-01",
                                            "minutes": 30, "narrative": NARR},
         404, "unknown-timekeeper", "timekeeper_id"),
    ]
    for path, body, status, slug, fld in cases:
        response = api.post("admin", path, body)
        assert response.status_code == status, (path, response.text)
        problem = response.json()
        assert response.headers["content-type"].startswith(PROBLEM_JSON)
        assert problem["type"] == PROBLEM_BASE + slug, problem
        assert problem["status"] == status
        assert problem.get("field") == fld, problem
        assert "request_id" in problem


NARR = CONFIDENTIAL[3]


def test_money_must_be_integer_minor_units(api: Api) -> None:
    seed(api)
    response = api.post("admin", "/v1/payments", {
        "client_id": api.ids["c1"], "amount_minor": "100", "currency": "USD",
        "method": "wire", "reference": "r", "received_on": "2024-03-01"})
    assert response.status_code == 422
    assert response.json()["field"] == "amount_minor"


def test_unauthenticated_and_revoked_keys_are_401(api: Api) -> None:
    seed(api)
    assert api.client.get("/v1/clients").status_code == 401
    bad = api.client.get("/v1/clients", headers={"Authorization": "Bearer llk_nope"})
    assert bad.status_code == 401
    assert bad.json()["type"] == PROBLEM_BASE + "unauthenticated"
    assert bad.headers["www-authenticate"] == "Bearer"
