"""Schemathesis against the HTTP app, in-process, on a seeded firm ledger.

Every operation of the app's OpenAPI document is called with bounded numbers of
generated requests (as the firm admin, with a fresh ``Idempotency-Key``; path
ids are real ids of the seeded ledger half of the time). No response may be a
5xx; every 4xx is ``application/problem+json`` with a ``type`` under the
problem base and the response's status; a refused POST writes no event.
"""

from __future__ import annotations

import itertools
import json
import os
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, reject, settings
from schemathesis.config import SchemathesisConfig

from ledger.api import ApiConfig, create_app
from ledger.api.problems import PROBLEM_BASE, PROBLEM_JSON
from ledger.database import DatabaseLocation
from ledger.store.firm import FirmStore
from tests.support.api import Api, seed
from tests.support.firms import drop_firm, new_firm_name

EXAMPLES = int(os.environ.get("LEDGER_API_FUZZ_EXAMPLES", "15"))
_OFFLINE = FirmStore(DatabaseLocation("postgresql://fuzz@127.0.0.1:1/none", False), "offline")
# Only the fuzzing phase: the coverage phase alone sends thousands of requests.
_CONFIG = SchemathesisConfig.from_dict({"phases": {
    "examples": {"enabled": False}, "coverage": {"enabled": False},
    "stateful": {"enabled": False}, "fuzzing": {"enabled": True}}})
# The server-sent event stream never ends by design; it has tests of its own.
SCHEMA = schemathesis.openapi.from_dict(create_app(_OFFLINE, ApiConfig()).openapi(),
                                        config=_CONFIG).exclude(path="/v1/events/stream")
ID_PARAMS = {"client_id": ("c1", "c2"), "matter_id": ("m1", "m2"), "invoice_id": ("i1",),
             "payment_id": ("p1",), "entry_id": ("e1",)}
_keys = itertools.count(1)
STATUSES: Counter[int] = Counter()


@dataclass
class Running:
    api: Api
    ids: dict[str, str]


@pytest.fixture(scope="module")
def running(database: DatabaseLocation, pytestconfig: pytest.Config) -> Iterator[Running]:
    store = FirmStore(database, new_firm_name(), pool_size=4)
    store.ensure()
    app = create_app(store, ApiConfig(access_linger_seconds=0.01))
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            api = seed(Api(client, store))
            yield Running(api, dict(api.ids))
    finally:
        drop_firm(database, store)
        capture = pytestconfig.pluginmanager.getplugin("capturemanager")
        with capture.global_and_fixture_disabled():
            print(f"\nschemathesis: {sum(STATUSES.values())} requests, statuses "
                  f"{dict(sorted(STATUSES.items()))}")


def event_count(store: FirmStore) -> int:
    return store.head().position


@SCHEMA.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_no_5xx_and_every_refusal_is_a_typed_problem(case: Any, running: Running) -> None:
    if "\\u0000" in json.dumps([case.query, case.path_parameters], default=str):
        # PostgreSQL text cannot hold NUL: such a query or path cannot name anything.
        reject()
    rng = random.Random(case.id)
    for name in list(case.path_parameters or {}):
        if name in ID_PARAMS and rng.random() < 0.5:
            case.path_parameters[name] = running.ids[rng.choice(ID_PARAMS[name])]
    api = running.api
    headers = {**api.auth("admin"), "Idempotency-Key": f"schemathesis-{next(_keys):08d}"}
    kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=headers)
    before = event_count(api.store)
    response = api.client.request(
        kwargs["method"], kwargs["url"], headers=kwargs.get("headers"),
        params=kwargs.get("params"), json=kwargs.get("json"),
        content=kwargs.get("data"))
    status = response.status_code
    STATUSES[status] += 1
    assert status < 500, (f"{case.method} {case.formatted_path} params={kwargs.get('params')} "
                          f"headers={case.headers} "
                          f"body={kwargs.get('json')}: {status} {response.text}")
    if 400 <= status < 500:
        assert response.headers["content-type"].startswith(PROBLEM_JSON), response.text
        problem = response.json()
        assert problem["status"] == status
        assert problem["type"].startswith(PROBLEM_BASE) and len(problem["type"]) > len(
            PROBLEM_BASE), problem
        if case.method.upper() == "POST":
            assert event_count(api.store) == before, f"a refused POST wrote: {problem}"
