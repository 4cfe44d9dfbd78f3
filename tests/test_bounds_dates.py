"""Dates and moments at the calendar's edge never answer 5xx, on every GET route.

The routes and their date parameters are read from the app's own OpenAPI
document (``format: date`` / ``date-time``), so a route added later is covered
without editing this file. Values are drawn around 0001-01-01 and 9999-12-31
with UTC offsets up to ±23:59, where converting to UTC overflows Python's
calendar. An out-of-range value is a 422 ``invalid-request`` naming the
parameter; a window that ends before it starts is ``invalid-period``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date, datetime, time
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.api import ApiConfig, create_app
from ledger.api.problems import PROBLEM_BASE, PROBLEM_JSON
from ledger.database import DatabaseLocation
from ledger.store.firm import FirmStore
from tests.support.api import Api, seed
from tests.support.firms import drop_firm, new_firm_name

EXAMPLES = int(os.environ.get("LEDGER_DATE_FUZZ_EXAMPLES", "12"))
_OFFLINE = FirmStore(DatabaseLocation("postgresql://fuzz@127.0.0.1:1/none", False), "offline")
OPENAPI: dict[str, Any] = create_app(_OFFLINE, ApiConfig()).openapi()
SKIP = {"/v1/events/stream"}  # never ends by design; it takes no date


def _format(schema: dict[str, Any]) -> str | None:
    for option in [schema, *schema.get("anyOf", [])]:
        if option.get("format") in ("date", "date-time"):
            return str(option["format"])
    return None


def _dated_routes() -> list[tuple[str, list[dict[str, Any]]]]:
    found = []
    for path, item in sorted(OPENAPI["paths"].items()):
        params = item.get("get", {}).get("parameters", [])
        if path not in SKIP and any(_format(p.get("schema", {})) for p in params):
            found.append((path, params))
    return found


ROUTES = _dated_routes()
EDGES = [date(1, 1, 1), date(1, 1, 2), date(9999, 12, 30), date(9999, 12, 31),
         date(1970, 1, 1), date(2024, 2, 29)]
OFFSETS = ["", "Z", "+00:00", "+14:00", "-14:00", "+23:59", "-23:59", "+05:30"]
days = st.one_of(st.sampled_from(EDGES), st.dates())
moments = st.builds(
    lambda d, t, off: datetime.combine(d, t).isoformat() + off,
    days, st.sampled_from([time(0), time(23, 59, 59), time(12, 0, 0, 1)]),
    st.sampled_from(OFFSETS))


@pytest.fixture(scope="module")
def running(database: DatabaseLocation) -> Iterator[Api]:
    store = FirmStore(database, new_firm_name(), pool_size=4)
    store.ensure()
    app = create_app(store, ApiConfig(access_linger_seconds=0.01))
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            yield seed(Api(client, store))
    finally:
        drop_firm(database, store)


def _fill(api: Api, path: str, params: list[dict[str, Any]],
          dated: dict[str, str]) -> tuple[str, dict[str, str]]:
    """The path with seeded ids (a fresh id where the seed has none), required values."""
    ids = {"client_id": api.ids["c1"], "matter_id": api.ids["m1"],
           "invoice_id": api.ids["i1"], "payment_id": api.ids["p1"]}
    query: dict[str, str] = {}
    for p in params:
        name = p["name"]
        if name in dated:
            query[name] = dated[name]
        elif p["in"] == "path":
            path = path.replace("{" + name + "}", ids.get(name, str(uuid4())))
        elif p.get("required"):
            query[name] = ids.get(name, "admin")
    return path, query


def _check(response: Any, dated: dict[str, str]) -> None:
    assert response.status_code < 500, (response.status_code, response.text)
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith(PROBLEM_JSON)
        body = response.json()
        assert body["type"].startswith(PROBLEM_BASE)
        if body["type"] == PROBLEM_BASE + "invalid-request":
            assert body["field"] in dated


@pytest.mark.parametrize(("path", "params"), ROUTES, ids=[p for p, _ in ROUTES])
def test_extreme_dates_never_answer_5xx(running: Api, path: str,
                                        params: list[dict[str, Any]]) -> None:
    dated_params = [(p["name"], _format(p["schema"])) for p in params if _format(p["schema"])]

    @given(st.fixed_dictionaries({name: moments if fmt == "date-time" else days.map(str)
                                  for name, fmt in dated_params}))
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def probe(dated: dict[str, str]) -> None:
        url, query = _fill(running, path, params, dated)
        _check(running.get("admin", url, **query), dated)

    probe()


def test_the_routes_with_dates_are_found() -> None:
    paths = {p for p, _ in ROUTES}
    assert {"/v1/invoices", "/v1/clients/{client_id}/statement", "/v1/audit/access/who",
            "/v1/reports/aging"} <= paths
    assert len(paths) >= 16


@pytest.mark.parametrize("moment", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
def test_a_moment_past_the_calendar_is_refused_naming_the_parameter(running: Api,
                                                                    moment: str) -> None:
    response = running.get("admin", "/v1/invoices", as_of=moment)
    assert response.status_code == 422
    body = response.json()
    assert body["type"] == PROBLEM_BASE + "invalid-request"
    assert body["field"] == "as_of"
    assert "0001-01-02 and 9999-12-30" in body["detail"]


def test_an_inverted_statement_period_is_invalid_period(running: Api) -> None:
    response = running.get("admin", f"/v1/clients/{running.ids['c1']}/statement",
                           **{"from": "2024-03-01", "to": "2024-01-01"})
    assert response.status_code == 422
    assert response.json()["type"] == PROBLEM_BASE + "invalid-period"


def test_an_inverted_breach_window_is_invalid_period(running: Api) -> None:
    response = running.get("admin", "/v1/audit/access/who", client_id=running.ids["c1"],
                           **{"from": "2024-03-01T00:00Z", "to": "2024-01-01T00:00Z"})
    assert response.status_code == 422
    assert response.json()["type"] == PROBLEM_BASE + "invalid-period"
