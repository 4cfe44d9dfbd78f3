"""The ``ledger trust`` verbs and the trust HTTP routes, end to end on a real ledger."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import ledger.cli
import ledger.cli.trust
import ledger.cli.trust_reports
from commands.service import BillingService
from ledger.settings import Settings
from ledger.store.firm import FirmStore
from tests.support.api import Api, grant, seed
from tests.support.trust import firm_with_trust

STATEMENT = """date,description,amount_minor,reference
2024-03-04,Deposit,250000,DEP-1
2024-03-20,Cheque paid,-40000,1001
2024-03-31,Service fee,-1000,FEE-1
"""


def test_trust_verbs(service: BillingService, firm_store: FirmStore,
                     capsys: pytest.CaptureFixture[str], tmp_path: Path,
                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ledger.cli.trust, "open_store", lambda *a, **k: firm_store)
    monkeypatch.setattr(ledger.cli.trust_reports, "_store", lambda *a, **k: firm_store)
    f = firm_with_trust(service)

    def run(*argv: str) -> Any:
        args = ledger.cli.build_parser().parse_args(["trust", *argv, "--json"])
        assert args.handler(args, Settings()) == 0
        return json.loads(capsys.readouterr().out)

    acc = run("open-account", "--bank", "Second Bank", "--account-number", "99-1",
              "--currency", "USD", "--jurisdiction", "US-IA", "--date", "2024-03-01")
    account = acc["account_id"]
    for signer in ("partner@firm", "cli-admin"):
        run("signer-add", "--account", account, "--principal", signer, "--date", "2024-03-01")
    assert [s["principal_id"] for s in run("signers", "--account", account)["signers"]] == [
        "cli-admin", "partner@firm"]
    common = ["--account", account, "--client", str(f["acme"]), "--matter", str(f["a1"]),
              "--currency", "USD"]
    run("deposit", *common, "--amount", "250000", "--payor", "Acme Holdings", "--purpose",
        "retainer", "--reference", "DEP-1", "--date", "2024-03-04")
    run("disburse", *common, "--amount", "40000", "--payee", "County Court", "--purpose",
        "filing fee", "--method", "check", "--reference", "1001", "--authorised-by",
        "partner@firm", "--date", "2024-03-15")
    run("disburse", *common, "--amount", "5000", "--payee", "Expert", "--purpose",
        "expert report", "--method", "check", "--reference", "1002", "--authorised-by",
        "partner@firm", "--date", "2024-03-29")
    run("firm-funds", "--account", account, "--amount", "2000", "--reference", "FF-1",
        "--date", "2024-03-01")
    run("bank-charge", "--account", account, "--amount", "1000", "--reference", "FEE-1",
        "--description", "Service fee", "--date", "2024-03-31")
    csv_file = tmp_path / "march.csv"
    csv_file.write_text(STATEMENT + "2024-03-02,Transfer,2000,FF-1\n")
    run("import-statement", "--account", account, "--from", "2024-03-01", "--to",
        "2024-03-31", "--opening", "0", "--closing", "211000", "--csv", str(csv_file))
    rec = run("reconciliation", "--account", account, "--period-end", "2024-03-31")
    assert (rec["bank_balance_minor"], rec["outstanding_checks_minor"],
            rec["adjusted_bank_minor"], rec["journal_minor"], rec["client_ledgers_minor"],
            rec["firm_ledger_minor"], rec["balanced"]) == (
        211_000, 5_000, 206_000, 206_000, 205_000, 1_000, True)
    signed = run("reconcile", "--account", account, "--period-end", "2024-03-31",
                 "--date", "2024-04-02")
    assert signed["outstanding_items"] == 1
    ledgers = run("ledgers", "--account", account, "--on", "2024-03-31")
    assert [ln["balance_minor"] for ln in ledgers["clients"][0]["lines"]] == [
        250_000, 210_000, 205_000]
    journals = run("journals", "--account", account, "--period", "2024-03-01..2024-03-31")
    assert (journals["receipts_total_minor"], journals["disbursements_total_minor"]) == (
        252_000, 46_000)
    assert run("exceptions", "--on", "2024-03-31")["negative_balances"] == []
    trial = run("trial-balance", "--account", account, "--on", "2024-03-31")
    assert trial["difference_minor"] == 0


def test_trust_routes(api: Api) -> None:
    seed(api)
    c1, m1, c2 = api.ids["c1"], api.ids["m1"], api.ids["c2"]
    api.key("clerk", "billing_clerk")
    api.key("portal", "client")
    api.key("auditor", "auditor")
    account = api.ok("admin", "/v1/trust/accounts", {
        "bank": "First Bank", "account_number": "123", "currency": "USD", "iolta": True,
        "jurisdiction": "US-AZ", "opened_on": "2024-03-01"})["account_id"]
    base = f"/v1/trust/accounts/{account}"
    for signer in ("partner", "admin"):
        api.ok("admin", f"{base}/signers", {"principal_id": signer, "added_on": "2024-03-01"})
    deposit = {"client_id": c1, "matter_id": m1, "amount_minor": 100_000, "currency": "USD",
               "payor": "Hawthorne treasury", "purpose": "retainer", "reference": "DEP-1",
               "received_on": "2024-03-04"}
    denied = api.post("clerk", f"{base}/deposits", deposit)
    assert denied.status_code == 404  # out of the clerk's grants: as if unknown
    assert "Hawthorne" not in denied.text
    grant(api, "clerk", "billing_clerk", c1)
    assert api.ok("clerk", f"{base}/deposits", deposit)["matter_balance_minor"] == 100_000
    overdraw = api.post("clerk", f"{base}/disbursements", {
        "client_id": c1, "matter_id": m1, "amount_minor": 100_001, "currency": "USD",
        "payee": "Hawthorne supplier", "purpose": "expert fees", "method": "check",
        "reference": "1001", "authorised_by": "partner", "paid_on": "2024-03-05"})
    assert overdraw.status_code == 422
    assert overdraw.json()["type"].endswith("trust-overdraft")
    assert "Hawthorne" not in overdraw.text
    assert api.post("clerk", f"{base}/firm-funds", {
        "amount_minor": 100, "reference": "FF", "deposited_on": "2024-03-02"}).status_code == 403
    api.ok("admin", f"{base}/statements", {
        "period_start": "2024-03-01", "statement_date": "2024-03-31",
        "opening_balance_minor": 0, "closing_balance_minor": 100_000,
        "lines": [{"date": "2024-03-04", "amount_minor": 100_000, "reference": "DEP-1"}]})

    grant(api, "portal", "client", c2)
    seen = api.get("portal", f"{base}/ledgers", on="2024-03-31")
    assert seen.status_code == 200 and seen.json()["clients"] == []
    assert api.get("portal", f"{base}/ledgers", client_id=c1).status_code == 404
    mine = api.get("clerk", f"{base}/ledgers", on="2024-03-31").json()
    assert [c["balance_minor"] for c in mine["clients"]] == [100_000]
    assert api.get("auditor", f"{base}/reconciliation",
                   period_end="2024-03-31").status_code == 403
    assert api.get("clerk", f"{base}/reconciliation",
                   period_end="2024-03-31").status_code == 403
    grant(api, "auditor", "auditor", c1)
    rec = api.get("auditor", f"{base}/reconciliation", period_end="2024-03-31").json()
    assert (rec["adjusted_bank_minor"], rec["journal_minor"], rec["balanced"]) == (
        100_000, 100_000, True)
    assert api.ok("admin", f"{base}/reconciliations", {
        "period_end": "2024-03-31", "signed_on": "2024-04-01"})["outstanding_items"] == 0
    assert api.get("admin", "/v1/trust/exceptions", on="2024-03-31").status_code == 200
    assert [x["principal_id"] for x in api.get("admin", f"{base}/signers").json()[
        "signers"]] == ["admin", "partner"]
    assert api.get("admin", f"{base}/journals", start="2024-03-01",
                   end="2024-03-31").json()["receipts_total_minor"] == 100_000
