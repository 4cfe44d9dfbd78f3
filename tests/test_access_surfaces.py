"""One answer per (role, event type) on every surface: REST, pull feed, SSE, webhooks.

The expected table is written out here, independently of the policy's code,
as the README documents it; each surface must deliver every event of client
c1 (the client every non-admin key holds a grant on) in exactly that form.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from ledger.api.keys import KeyStore
from ledger.api.problems import PROBLEM_BASE
from ledger.store.firm import FirmStore
from ledger.subscribers import feed
from tests.support.access import (
    INTERNAL,
    ROLES,
    Stream,
    deliver_all,
    every_event,
    forms_by_type,
    pull_all,
    read_stream,
    received,
    team,
    who,
)
from tests.support.api import CLIENT_NAME, NARRATIVE, Api, grant, seed
from tests.support.subscribers import Receiver

F, R, W = "full", "redacted", "withheld"
MONEY = {"InvoiceDrafted", "WrittenDown", "InvoiceIssued", "InvoiceVoided", "PaymentApplied",
         "WrittenOff", "CreditNoteIssued", "PaymentReceived", "PaymentAllocated"}
CLIENT_SEES = {"ClientOnboarded": F, "InvoiceIssued": F, "PaymentApplied": F,
               "CreditNoteIssued": F, "PaymentReceived": F, "PaymentAllocated": F,
               "WrittenOff": R, "InvoiceVoided": R}


def expected(role: str, event_type: str) -> str:
    """The documented table (README, "Who sees what")."""
    if role == "client":
        return CLIENT_SEES.get(event_type, W)
    if role == "timekeeper":
        return W if event_type in MONEY else F
    return F


def _statement_form(api: Api, principal: str, kind: str, clear: str) -> str:
    r = api.get(principal, f"/v1/clients/{api.ids['c1']}/statement", **{
        "from": "2024-01-01", "to": "2024-12-31"})
    if r.status_code in (403, 404):
        return W
    refs = [li["reference"] for li in r.json()["lines"] if li["kind"] == kind]
    assert refs, kind
    return F if refs[0] == clear else R if refs[0] == {"redacted": True} else "?"


def _shows(api: Api, principal: str, path: str, needle: str, **params: Any) -> str:
    r = api.get(principal, path, **params)
    if r.status_code in (403, 404):
        return W
    assert r.status_code == 200, r.text
    return F if needle in r.text else W


PROBES: dict[str, Callable[[Api, str], str]] = {
    "ClientOnboarded": lambda a, p: _shows(a, p, f"/v1/clients/{a.ids['c1']}", CLIENT_NAME),
    "MatterOpened": lambda a, p: _shows(a, p, f"/v1/matters/{a.ids['m1']}", a.ids["m1"]),
    "TimeLogged": lambda a, p: _shows(a, p, "/v1/unbilled-time", NARRATIVE,
                                      client_id=a.ids["c1"]),
    "ExpenseLogged": lambda a, p: _shows(a, p, "/v1/unbilled-time", '"kind":"expense"',
                                         client_id=a.ids["c1"]),
    "InvoiceDrafted": lambda a, p: _shows(a, p, f"/v1/invoices/{a.ids['draft']}",
                                          a.ids["draft"]),
    "InvoiceIssued": lambda a, p: _shows(a, p, f"/v1/invoices/{a.ids['i1']}", a.ids["i1"]),
    "PaymentReceived": lambda a, p: _shows(a, p, f"/v1/clients/{a.ids['c1']}/payments",
                                           '"kind":"payment"'),
    "PaymentAllocated": lambda a, p: _shows(a, p, f"/v1/clients/{a.ids['c1']}/payments",
                                            '"kind":"allocation"'),
    "WrittenOff": lambda a, p: _statement_form(a, p, "write_off", INTERNAL),
    "InvoiceVoided": lambda a, p: _statement_form(a, p, "void", INTERNAL),
    "CreditNoteIssued": lambda a, p: _statement_form(a, p, "credit", "goodwill credit"),
}
"""Event types a REST route discloses on their own, and how to read the form off it."""


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_each_event_type_one_way_on_every_surface(
        api: Api, server: str, receiver: Receiver, firm_store: FirmStore, role: str) -> None:
    every_event(api)
    team(api)
    c1, principal = api.ids["c1"], who(role)
    truth = pull_all(api, "admin")
    types = forms_by_type(truth, truth, c1)
    assert len(types) >= 17, sorted(types)  # every billing event type of a client's life
    want = {t: {expected(role, t)} for t in types}

    assert forms_by_type(truth, pull_all(api, principal), c1) == want, "pull feed"

    stream = Stream()
    read_stream(server, api.tokens[principal], stream, max_events=len(truth))
    assert forms_by_type(truth, stream.events, c1) == want, "SSE"

    key_id = next(k.key_id for k in KeyStore(firm_store).list() if k.principal_id == principal)
    hook = api.post("admin", "/v1/webhooks", {"url": receiver.url, "scope": ["firm"],
                                              "after": 0, "key_id": str(key_id)})
    assert hook.status_code == 201, hook.text
    deliver_all(firm_store, hook.json()["id"])
    assert forms_by_type(truth, received(receiver), c1) == want, "webhooks"

    rest = {t: probe(api, principal) for t, probe in PROBES.items()}
    assert rest == {t: expected(role, t) for t in PROBES}, "REST"


def test_a_client_never_reads_wip_narratives_rates_or_internal_reasons(api: Api) -> None:
    every_event(api)
    team(api)
    for event in pull_all(api, who("client")):
        text = feed.encode(event).decode()
        assert NARRATIVE not in text and INTERNAL not in text, text
        assert "42000" not in text or "InvoiceIssued" in text, text  # a rate: on the bill only
    invoices = api.get(who("client"), "/v1/invoices").json()["items"]
    assert invoices and all(i["number"] for i in invoices)  # no drafts
    assert api.get(who("client"), "/v1/unbilled-time").status_code == 403


# -- the type filter: the same rule on the pull feed and the stream ---------------

def test_a_type_filter_leaves_out_other_clients_events_on_both_surfaces(
        api: Api, server: str) -> None:
    seed(api)
    api.key("clerk", "billing_clerk")
    grant(api, "clerk", "billing_clerk", api.ids["c1"])
    page = api.get("clerk", "/v1/events", type="ClientOnboarded", limit=100)
    pulled = [feed.FeedEvent(**e) for e in page.json()["events"]]
    assert [(e.client_id, e.withheld) for e in pulled] == [(api.ids["c1"], False)]
    stream = Stream()
    reader = threading.Thread(target=read_stream, args=(server, api.tokens["clerk"], stream),
                              kwargs={"seconds": 3, "type": "ClientOnboarded"})
    reader.start()
    reader.join(timeout=20)
    assert [(e.client_id, e.withheld) for e in stream.events] == [(api.ids["c1"], False)]
    assert [e.position for e in stream.events] == [e.position for e in pulled]


# -- unknown and forbidden ids: the same 404 --------------------------------------

def _problem(response: Any) -> tuple[int, dict[str, Any]]:
    body = {k: v for k, v in response.json().items() if k not in ("request_id", "instance")}
    return response.status_code, body


UNKNOWN = "00000000-0000-4000-8000-000000000000"
ID_ROUTES: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/v1/clients/{c}", {}),
    ("GET", "/v1/clients/{c}/statement", {}),
    ("GET", "/v1/clients/{c}/payments", {}),
    ("GET", "/v1/clients/{c}/balance", {}),
    ("GET", "/v1/matters/{m}", {}),
    ("GET", "/v1/invoices/{i}", {}),
    ("POST", "/v1/matters/{m}/time-entries", {"timekeeper_id": "tk1", "work_on": "2024-03-04",
                                              "minutes": 6, "narrative": "x"}),
    ("POST", "/v1/clients/{c}/matters", {"title": "t", "opened_on": "2024-03-04"}),
    ("POST", "/v1/invoices/{i}/write-offs", {"amount_minor": 1, "reason": "bad debt",
                                             "approved_by": "clerk",
                                             "written_off_on": "2024-03-04"}),
    ("POST", "/v1/payments", {"client_id": "{c}", "amount_minor": 1, "currency": "USD",
                              "method": "wire", "reference": "W", "received_on": "2024-03-04"}),
]


@pytest.mark.parametrize(("method", "path", "body"), ID_ROUTES,
                         ids=[f"{m} {p}" for m, p, _ in ID_ROUTES])
def test_another_clients_id_answers_exactly_like_an_unknown_id(
        api: Api, method: str, path: str, body: dict[str, Any]) -> None:
    seed(api)
    api.key("clerk", "billing_clerk")
    grant(api, "clerk", "billing_clerk", api.ids["c1"])

    def call(c: str, m: str, i: str) -> Any:
        target = path.format(c=c, m=m, i=i)
        if method == "GET":
            return api.get("clerk", target)
        return api.post("clerk", target, {k: v.format(c=c) if isinstance(v, str) else v
                                          for k, v in body.items()})

    forbidden = call(api.ids["c2"], api.ids["m2"], _invoice_of_c2(api))
    unknown = call(UNKNOWN, UNKNOWN, UNKNOWN)
    assert forbidden.status_code == 404, forbidden.text
    assert _problem(forbidden) == _problem(unknown)
    assert PROBLEM_BASE in forbidden.json()["type"]


def _invoice_of_c2(api: Api) -> str:
    if "i2c" not in api.ids:
        api.ok("admin", f"/v1/matters/{api.ids['m2']}/time-entries", {
            "timekeeper_id": "tk1", "work_on": "2024-01-10", "minutes": 60, "narrative": "x"})
        inv = api.ok("admin", f"/v1/matters/{api.ids['m2']}/invoices", {
            "period_start": "2024-01-01", "period_end": "2024-01-31",
            "drafted_on": "2024-01-31"})["invoice_id"]
        api.ok("admin", f"/v1/invoices/{inv}/issue", {"issued_on": "2024-02-01"})
        api.ids["i2c"] = inv
    return api.ids["i2c"]
