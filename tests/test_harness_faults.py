"""The fault and load harness in its bounded form (the long form is scripts/harness).

Three writer processes issue random valid and invalid commands on one firm for
about a minute, against an embedded PostgreSQL the harness starts for itself
(never the shared server, even when LEDGER_DATABASE_URL is set), while the
controller SIGKILLs writers, terminates backends and restarts the server. The
checker's verdict is printed, and every invariant must hold.
"""

from __future__ import annotations

import os

import pytest

from tests.harness import HarnessConfig, run_harness

SECONDS = float(os.environ.get("LEDGER_HARNESS_SECONDS", "60"))
SEED = int(os.environ.get("LEDGER_HARNESS_SEED", "20240331"))


@pytest.mark.slow
def test_acknowledged_commands_survive_kills_terminations_and_a_restart(
        capsys: pytest.CaptureFixture[str]) -> None:
    report = run_harness(HarnessConfig(writers=3, seconds=SECONDS, seed=SEED))
    with capsys.disabled():
        print("\n" + report.summary())
    assert report.kills >= 1
    assert report.terminations >= 1
    assert report.restarts >= 1
    assert report.hung_writers == 0
    verdict = report.verdict
    assert verdict is not None
    assert verdict.ok, verdict.summary()
    figures = verdict.figures
    assert figures["acknowledged"] >= 100
    assert figures["invoices_issued"] >= 5 and figures["payments"] >= 5
    assert figures["projections_equal"] == 1
    assert verdict.refusals, "the deliberately invalid commands were refused"
