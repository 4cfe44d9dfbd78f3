"""The command line's store verbs, run as a user would (a real process, a real server)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ledger.store.firm import FirmStore
from tests.chain_helpers import append, superuser_sql


def run_ledger(*args: str, env: dict[str, str] | None = None,
               cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "LEDGER_LOG_LEVEL": "WARNING", **(env or {})}
    return subprocess.run([sys.executable, "-m", "ledger", *args], capture_output=True,
                          text=True, env=full_env, cwd=cwd, timeout=120, check=False)


def test_info_and_verify_json(firm_store: FirmStore) -> None:
    append(firm_store, 4)
    env = {"LEDGER_DATABASE_URL": firm_store.location.url}
    info = run_ledger("--firm", firm_store.firm, "info", "--json", env=env)
    assert info.returncode == 0, info.stderr
    data = json.loads(info.stdout)
    assert data["schema"] == firm_store.schema
    assert data["events_table"] == f"{firm_store.schema}.events"
    assert data["head_position"] == 4 and len(data["head_hash"]) == 64
    verify = run_ledger("--firm", firm_store.firm, "verify", "--json", env=env)
    assert verify.returncode == 0
    report = json.loads(verify.stdout)
    assert report["ok"] is True and report["checked"] == 4 and report["damage"] is None
    assert report["head_hash"] == data["head_hash"]


def test_verify_names_damage_and_exits_1(firm_store: FirmStore) -> None:
    append(firm_store, 6)
    superuser_sql(firm_store, "UPDATE EV SET state = 'x' WHERE notification_id = 3")
    env = {"LEDGER_DATABASE_URL": firm_store.location.url, "LEDGER_FIRM": firm_store.firm}
    plain = run_ledger("verify", env=env)
    assert plain.returncode == 1
    assert "DAMAGED at position 3: payload_changed" in plain.stdout
    report = json.loads(run_ledger("verify", "--json", env=env).stdout)
    assert report["ok"] is False
    assert report["damage"]["position"] == 3 and report["damage"]["kind"] == "payload_changed"


def test_verify_against_known_head_detects_truncation(firm_store: FirmStore) -> None:
    append(firm_store, 5)
    head = firm_store.head()
    superuser_sql(firm_store, "DELETE FROM EV WHERE notification_id = 5")
    env = {"LEDGER_DATABASE_URL": firm_store.location.url, "LEDGER_FIRM": firm_store.firm}
    result = run_ledger("verify", "--head", f"{head.position}:{head.hash}", env=env)
    assert result.returncode == 1 and "tail_truncated" in result.stdout


def test_unreachable_database_is_one_clear_line_with_masked_password() -> None:
    env = {"LEDGER_DATABASE_URL": "postgresql://ledger:s3cret-pw@127.0.0.1:1/nowhere"}
    result = run_ledger("info", env=env)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert "s3cret-pw" not in result.stderr + result.stdout
    assert "postgresql://ledger:***@127.0.0.1:1/nowhere" in result.stderr
    assert "Traceback" not in result.stderr


def test_invalid_url_and_firm_name_are_refused() -> None:
    bad_url = run_ledger("info", env={"LEDGER_DATABASE_URL": "not a url ==="})
    assert bad_url.returncode == 2 and "not a valid PostgreSQL URL" in bad_url.stderr
    bad_firm = run_ledger("--firm", "Bad-Firm!", "info",
                          env={"LEDGER_DATABASE_URL": "postgresql://x@127.0.0.1:1/x"})
    assert bad_firm.returncode == 2 and "firm name" in bad_firm.stderr


def test_corrupt_embedded_data_folder_is_one_clear_line(tmp_path: Path) -> None:
    pgdata = tmp_path / "pgdata"
    pgdata.mkdir()
    (pgdata / "PG_VERSION").write_text("garbage\n")
    env = {"LEDGER_PGDATA": str(pgdata)}
    environment = {k: v for k, v in os.environ.items() if k != "LEDGER_DATABASE_URL"}
    result = subprocess.run([sys.executable, "-m", "ledger", "info"], capture_output=True,
                            text=True, env={**environment, **env}, timeout=120, check=False)
    assert result.returncode == 2
    assert "embedded PostgreSQL" in result.stderr and str(pgdata) in result.stderr
    assert "Traceback" not in result.stderr


def test_db_init_creates_app_role_on_fresh_firm(firm_store: FirmStore) -> None:
    env = {"LEDGER_DATABASE_URL": firm_store.location.url}
    result = run_ledger("--firm", firm_store.firm, "db", "init", "--json", env=env)
    assert result.returncode == 0
    assert json.loads(result.stdout)["app_role"] == f"{firm_store.schema}_app"
