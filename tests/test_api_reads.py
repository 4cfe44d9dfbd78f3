"""Reads: RecordAccessed for each read and none lost, pagination, ETags, no secrets in errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from psycopg.sql import SQL, Identifier

from ledger.api.access_log import ACCESS_TABLE, Access, AccessLog
from ledger.api.breach import what_accessed, who_accessed
from ledger.store.firm import FirmStore
from ledger.verify import verify_chain
from tests.support.api import CONFIDENTIAL, NARRATIVE, Api, grant, make_api, seed


def access_rows(store: FirmStore) -> int:
    with store.location.connect() as conn:
        row = conn.execute(SQL("SELECT count(*) FROM {s}.{t}").format(
            s=Identifier(store.schema), t=Identifier(ACCESS_TABLE))).fetchone()
    return int(row[0]) if row else 0


def test_every_read_is_recorded_and_none_lost_on_shutdown(firm_store: FirmStore) -> None:
    start = datetime.now(UTC) - timedelta(seconds=1)
    for app in make_api(firm_store, access_batch_size=7):
        seed(app)
        app.key("clerk", "billing_clerk")
        grant(app, "clerk", "billing_clerk", app.ids["c1"])
        c1 = app.ids["c1"]
        reads = [f"/v1/clients/{c1}", f"/v1/clients/{c1}/statement",
                 f"/v1/clients/{c1}/balance", f"/v1/clients/{c1}/payments",
                 f"/v1/invoices/{app.ids['i1']}", "/v1/invoices"] * 10
        for path in reads:
            assert app.get("clerk", path).status_code == 200
        refused = app.get("clerk", f"/v1/clients/{app.ids['c2']}")
        assert refused.status_code == 403  # refused reads record nothing
    # the app has shut down: every read's record is committed on the access chain
    assert access_rows(firm_store) == len(reads)
    end = datetime.now(UTC) + timedelta(seconds=1)
    who = who_accessed(firm_store, c1, start, end)
    assert who["principals"] == [{"principal_id": "clerk", "reads": len(reads)}]
    assert {a["what"] for a in who["accesses"]} == {
        "client", "statement", "balance", "payments", "invoice", "invoices"}
    assert all(a["request_id"] for a in who["accesses"])
    what = what_accessed(firm_store, "clerk", start, end)
    assert what["clients"] == [{"client_id": c1, "reads": len(reads)}]
    assert what_accessed(firm_store, "clerk", end, end + timedelta(hours=1))["accesses"] == []
    report = verify_chain(firm_store.location, firm_store.schema, ACCESS_TABLE)
    assert report.ok and report.checked == len(reads)


def test_access_log_drains_its_queue_on_close(firm_store: FirmStore) -> None:
    log = AccessLog(firm_store, batch_size=250, linger_seconds=0.5)
    client_id = uuid4()
    for n in range(3000):
        log.record(Access(principal_id="p", role="auditor", what="statement",
                          request_id=f"r{n}", client_id=client_id))
    log.close()
    assert log.written == 3000
    assert access_rows(firm_store) == 3000


def test_breach_reports_over_http(api: Api) -> None:
    seed(api)
    api.key("aud", "auditor")
    grant(api, "aud", "auditor", api.ids["c1"])
    for _ in range(3):
        api.get("aud", f"/v1/clients/{api.ids['c1']}/statement")
    api.client.app.state.ledger.access.flush()  # type: ignore[attr-defined]
    window = {"from": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
              "to": (datetime.now(UTC) + timedelta(minutes=1)).isoformat()}
    who = api.get("admin", "/v1/audit/access/who", client_id=api.ids["c1"], **window).json()
    assert who["principals"] == [{"principal_id": "aud", "reads": 3}]
    what = api.get("aud", "/v1/audit/access/what", principal_id="aud", **window).json()
    assert what["count"] == 3
    assert api.get("aud", "/v1/audit/access/who", client_id=api.ids["c2"],
                   **window).status_code == 403


def test_cursor_pagination_walks_every_item_once(api: Api) -> None:
    seed(api)
    for n in range(5):
        api.ok("admin", "/v1/clients", {"name": f"Client {n}", "billing_contact": "x",
                                        "currency": "USD", "payment_terms_days": 30})
    seen: list[str] = []
    after: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2, **({"after": after} if after else {})}
        body = api.get("admin", "/v1/clients", **params).json()
        seen += [c["client_id"] for c in body["items"]]
        pages += 1
        after = body["next"]
        if after is None:
            break
    assert pages == 4 and len(seen) == 7 == len(set(seen))
    bad = api.get("admin", "/v1/clients", after="!!not-a-cursor")
    assert bad.status_code == 400
    assert bad.json()["type"].endswith("/invalid-cursor")
    assert api.get("admin", "/v1/clients", limit=0).status_code == 422


def test_etag_and_if_none_match(api: Api) -> None:
    seed(api)
    path = f"/v1/clients/{api.ids['c1']}/balance"
    first = api.get("admin", path)
    etag = first.headers["etag"]
    assert etag.startswith('W/"')
    cached = api.client.get(path, headers={**api.auth("admin"), "If-None-Match": etag})
    assert cached.status_code == 304 and cached.content == b""
    api.ok("admin", "/v1/payments", {"client_id": api.ids["c1"], "amount_minor": 500,
                                     "currency": "USD", "method": "ach", "reference": "A-2",
                                     "received_on": "2024-03-01"})
    changed = api.client.get(path, headers={**api.auth("admin"), "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert changed.json()["unapplied_credit_minor"] == 500


def test_as_of_shows_the_books_as_they_stood(api: Api) -> None:
    seed(api)
    before = datetime.now(UTC)
    api.ok("admin", "/v1/clients", {"name": "Later Co", "billing_contact": "x",
                                    "currency": "USD", "payment_terms_days": 30})
    assert len(api.get("admin", "/v1/clients").json()["items"]) == 3
    then = api.get("admin", "/v1/clients", as_of=before.isoformat()).json()
    assert len(then["items"]) == 2 and then["as_of"] is not None


def test_error_bodies_never_carry_confidential_values(api: Api) -> None:
    seed(api)
    api.key("tk", "timekeeper", timekeeper="tk1")
    api.key("portal", "client")
    grant(api, "portal", "client", api.ids["c1"])
    m1, c1, c2 = api.ids["m1"], api.ids["c1"], api.ids["c2"]
    long_narrative = NARRATIVE * 100
    bodies = [
        api.post("admin", "/v1/clients", {"name": CONFIDENTIAL[0], "billing_contact":
                                          CONFIDENTIAL[1], "currency": "usd",
                                          "payment_terms_days": 30}),
        api.post("admin", "/v1/clients", {"name": CONFIDENTIAL[0], "billing_contact":
                                          CONFIDENTIAL[1], "currency": "USD",
                                          "payment_terms_days": CONFIDENTIAL[0]}),
        api.post("admin", f"/v1/clients/{c1}/matters", {"title": CONFIDENTIAL[2] * 20,
                                                        "opened_on": "2024-01-01"}),
        api.post("admin", f"/v1/matters/{m1}/time-entries", {
            "timekeeper_id": "tk1", "work_on": "2024-01-10", "minutes": NARRATIVE,
            "narrative": NARRATIVE}),
        api.post("admin", f"/v1/matters/{m1}/time-entries", {
            "timekeeper_id": "tk1", "work_on": "2024-01-10", "minutes": 30,
            "narrative": long_narrative}),
        api.post("admin", f"/v1/matters/{m1}/time-entries", {
            "timekeeper_id": "tk1", "work_on": "2024-01-10", "minutes": 2000,
            "narrative": NARRATIVE, "task_code": NARRATIVE}),
        api.post("tk", f"/v1/matters/{m1}/time-entries", {
            "timekeeper_id": "tk9", "work_on": "2024-01-10", "minutes": 30,
            "narrative": NARRATIVE}),
        api.post("portal", f"/v1/matters/{m1}/time-entries", {
            "timekeeper_id": "tk1", "work_on": "2024-01-10", "minutes": 30,
            "narrative": NARRATIVE}),
        api.client.post(f"/v1/matters/{m1}/time-entries", content=b'{"narrative": "'
                        + NARRATIVE.encode() + b'"', headers={**api.auth("admin"),
                                                              "Idempotency-Key": "k-12345678",
                                                              "Content-Type":
                                                              "application/json"}),
        api.get("portal", f"/v1/clients/{c2}/statement"),
        api.get("portal", f"/v1/clients/{c2}"),
        api.get("portal", "/v1/clients"),
        api.get("admin", f"/v1/matters/{uuid4()}"),
        api.get("admin", "/v1/invoices", as_of=CONFIDENTIAL[0]),
        api.get("admin", f"/v1/clients/{CONFIDENTIAL[0]}"),
        api.client.get("/v1/clients", headers={"Authorization": f"Bearer {CONFIDENTIAL[0]}"}),
        api.client.get(f"/v1/nowhere/{CONFIDENTIAL[0]}"),
    ]
    key = "reuse-key-0001"
    api.post("admin", f"/v1/matters/{m1}/time-entries", {
        "timekeeper_id": "tk1", "work_on": "2024-01-11", "minutes": 30,
        "narrative": NARRATIVE}, key)
    bodies.append(api.post("admin", f"/v1/matters/{m1}/time-entries", {
        "timekeeper_id": "tk1", "work_on": "2024-01-11", "minutes": 31,
        "narrative": NARRATIVE}, key))
    for response in bodies:
        assert response.status_code >= 400, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        text = response.text
        for secret in CONFIDENTIAL:
            assert secret.lower() not in text.lower(), (secret, text)
        assert "Traceback" not in text
        assert {"type", "title", "status", "detail"} <= set(response.json())
