"""As-of answers speak only of the past: the chain and the records as they stood at T.

``report verification --as-of T`` judges the prefix that existed at T (its
count and head) and shows separately that today's chain extends it. A report
about a client, matter or invoice that did not exist at T (or never) is refused
as not found, on the read side, over HTTP and on the command line.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from uuid import uuid4

import psycopg
import pytest
from fastapi.testclient import TestClient

from commands.service import BillingService
from ledger.api import ApiConfig, create_app
from ledger.api.problems import PROBLEM_BASE
from ledger.cli import main
from ledger.domain.errors import ClientNotFoundError, InvoiceNotFoundError
from ledger.store.firm import FirmStore
from projections import query
from tests.support.api import Api
from tests.support.billing import (
    client,
    draft,
    issue,
    log,
    matter,
    set_up_firm,
    timekeeper,
)
from tests.support.firms import head_time

PERIOD = (date(2026, 1, 1), date(2026, 3, 31))


@pytest.fixture
def cli_env(firm_store: FirmStore, monkeypatch: pytest.MonkeyPatch) -> FirmStore:
    monkeypatch.setenv("LEDGER_DATABASE_URL", firm_store.location.url)
    monkeypatch.setenv("LEDGER_FIRM", firm_store.firm)
    return firm_store


def test_verification_as_of_counts_the_prefix_and_shows_the_chain_extends_it(
        service: BillingService, firm_store: FirmStore) -> None:
    set_up_firm(service)
    timekeeper(service, "PA", 60_000)
    acme = client(service)
    then = head_time(firm_store)
    at_then = firm_store.head().position
    log(service, matter(service, acme), "PA", date(2026, 3, 2), 60)
    now = firm_store.head().position
    assert now > at_then

    report = query.verification_report(firm_store, then)
    assert (report["ok"], report["position"], report["events_checked"]) == (True, at_then,
                                                                             at_then)
    assert report["head_position"] == at_then and report["damage"] is None
    current = report["current"]
    assert (current["ok"], current["extends_as_of"]) == (True, True)
    assert (current["events_checked"], current["head_position"]) == (now, now)
    live = query.verification_report(firm_store)
    assert live["events_checked"] == now and "current" not in live


def test_damage_after_t_leaves_the_prefix_verified_but_not_extended(
        service: BillingService, firm_store: FirmStore) -> None:
    set_up_firm(service)
    acme = client(service)
    then = head_time(firm_store)
    at_then = firm_store.head().position
    matter(service, acme)
    with psycopg.connect(firm_store.location.url, autocommit=True) as conn:
        # As the table's owner, bypassing the refuse-change trigger, as an intruder would.
        conn.execute(f'ALTER TABLE "{firm_store.schema}".{firm_store.events_table} '
                     "DISABLE TRIGGER USER")
        conn.execute(f'UPDATE "{firm_store.schema}".{firm_store.events_table} '
                     "SET state = state || '\\x20'::bytea WHERE notification_id = %s",
                     (firm_store.head().position,))
    report = query.verification_report(firm_store, then)
    assert report["events_checked"] == at_then and report["damage"] is None
    assert report["current"]["ok"] is False and report["current"]["extends_as_of"] is False
    assert report["current"]["damage"]["position"] > at_then
    assert report["ok"] is False


def test_statement_of_a_client_not_yet_onboarded_or_never_is_not_found(
        service: BillingService, firm_store: FirmStore) -> None:
    set_up_firm(service)
    first = client(service)
    then = head_time(firm_store)
    later = client(service)
    assert query.statement_report(firm_store, first, *PERIOD, then)["client"]
    for who, at in ((later, then), (uuid4(), then), (uuid4(), None)):
        with pytest.raises(ClientNotFoundError):
            query.statement_report(firm_store, who, *PERIOD, at)
    with pytest.raises(ClientNotFoundError):
        query.invoices_report(firm_store, then, client_id=later)
    with pytest.raises(ClientNotFoundError):
        query.payments_rows(firm_store, later, then)


def test_ledes_of_an_invoice_issued_after_t_is_invoice_not_found(
        service: BillingService, firm_store: FirmStore) -> None:
    set_up_firm(service)
    timekeeper(service, "PA", 60_000)
    work = matter(service, client(service))
    log(service, work, "PA", date(2026, 3, 2), 60)
    then = head_time(firm_store)
    invoice = draft(service, work, date(2026, 3, 1), date(2026, 3, 31))
    issue(service, invoice, date(2026, 3, 20))
    assert query.ledes_export(firm_store, invoice, "24-6789012")
    with pytest.raises(InvoiceNotFoundError):
        query.ledes_export(firm_store, invoice, "24-6789012", then)


@pytest.fixture
def http(firm_store: FirmStore) -> Iterator[Api]:
    app = create_app(firm_store, ApiConfig(access_linger_seconds=0.01))
    with TestClient(app) as test_client:
        api = Api(test_client, firm_store)
        api.key("admin", "firm_admin")
        yield api


def test_http_reads_about_a_client_onboarded_after_t_answer_client_not_found(
        service: BillingService, http: Api, firm_store: FirmStore) -> None:
    set_up_firm(service)
    client(service)
    then = head_time(firm_store).isoformat()
    later = str(client(service))
    for tail in ("statement", "balance", "payments"):
        url = f"/v1/clients/{later}/{tail}"
        assert http.get("admin", url).status_code == 200
        refused = http.get("admin", url, as_of=then)
        assert refused.status_code == 404, (tail, refused.text)
        assert refused.json()["type"] == PROBLEM_BASE + "client-not-found"
    missing = http.get("admin", f"/v1/clients/{uuid4()}/statement", as_of=then)
    assert missing.json()["type"] == PROBLEM_BASE + "client-not-found"


def test_http_a_matter_or_invoice_made_after_t_is_not_found_as_of_t(
        service: BillingService, http: Api, firm_store: FirmStore) -> None:
    set_up_firm(service)
    timekeeper(service, "PA", 60_000)
    acme = client(service)
    then = head_time(firm_store).isoformat()
    work = matter(service, acme)
    log(service, work, "PA", date(2026, 3, 2), 60)
    invoice = draft(service, work, date(2026, 3, 1), date(2026, 3, 31))
    for url, slug in ((f"/v1/matters/{work}", "matter-not-found"),
                      (f"/v1/invoices/{invoice}", "invoice-not-found")):
        assert http.get("admin", url).status_code == 200
        refused = http.get("admin", url, as_of=then)
        assert (refused.status_code, refused.json()["type"]) == (404, PROBLEM_BASE + slug)


def test_cli_reports_about_a_client_not_there_at_t_exit_2_in_one_line(
        service: BillingService, cli_env: FirmStore,
        capsys: pytest.CaptureFixture[str]) -> None:
    set_up_firm(service)
    client(service)
    then = head_time(cli_env).isoformat()
    later = str(client(service))
    for argv in (["report", "statement", later, "--period", "2026-01-01..2026-03-31"],
                 ["report", "wip", "--client", later], ["report", "invoices", "--client", later]):
        assert main([*argv, "--as-of", then]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "no such client" in err
        assert main([*argv, "--json"]) == 0
        capsys.readouterr()
    assert main(["report", "verification", "--as-of", then, "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["events_checked"] < body["current"]["events_checked"]
