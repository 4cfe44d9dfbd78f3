"""The checkpoint and proof verbs, end to end through ``ledger.cli.main``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger.cli import main
from ledger.proof import standalone
from ledger.store.firm import FirmStore
from tests.chain_helpers import append, superuser_sql


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_checkpoint_verify_prove_and_bundle(cli: FirmStore, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "checkpoint")
    assert code == 0 and "checkpoint-12.json" in out
    document = json.loads((tmp_path / "checkpoint-12.json").read_text())
    assert standalone.verify_document(document, bytes.fromhex(document["public_key"])).ok
    assert (tmp_path / "data" / "keys" / f"{cli.firm}-ed25519.pem").exists()

    append(cli, 3)
    code, out = run(capsys, "verify", "--checkpoint", "checkpoint-12.json")
    assert code == 0 and out.startswith("OK: 15 events verified") and "holds" in out
    code, out = run(capsys, "verify", "--checkpoint", "checkpoint-12.json", "--json")
    report = json.loads(out)
    assert code == 0 and report["ok"] and report["checked"] == 15
    assert report["checkpoint"]["ok"] and report["checkpoint"]["key_source"] == "firm key file"
    assert report["known_head"] == {"position": 12, "hash": document["head_hash"]}

    code, out = run(capsys, "checkpoint", "--out", "later.json", "--json")
    assert code == 0 and json.loads(out)["checkpoint"]["position"] == 15

    code, out = run(capsys, "prove", "--positions", "3,7,9", "--checkpoint",
                    "checkpoint-12.json", "--out", "bundle.json")
    assert code == 0 and "bundle.json" in out
    key = document["public_key"]
    code, out = run(capsys, "verify-bundle", "bundle.json", "--public-key", key)
    assert code == 0 and "events proven: 3, 7, 9" in out
    code, out = run(capsys, "verify-bundle", "bundle.json", "--public-key", "ab" * 32)
    assert code == 1 and "FAILED" in out

    code, out = run(capsys, "prove-consistency", "checkpoint-12.json", "later.json")
    assert code == 0 and "consistency-12-15.json" in out
    code, out = run(capsys, "verify-bundle", "consistency-12-15.json", "--json",
                    "--public-key", key)
    assert code == 0 and json.loads(out)["ok"]

    # the standalone module runs as a script, too
    assert standalone.main(["bundle.json", "--public-key", key]) == 0
    tampered = json.loads(Path("bundle.json").read_text())
    tampered["events"][1]["topic"] += "x"
    Path("tampered.json").write_text(json.dumps(tampered))
    code, out = run(capsys, "verify-bundle", "tampered.json", "--public-key", key)
    assert code == 1 and "does not match" in out


def test_verify_checkpoint_fails_on_truncation_and_forgery(
        cli: FirmStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "checkpoint", "--out", "cp.json")[0] == 0
    document = json.loads(Path("cp.json").read_text())
    forged = {**document, "position": 11}
    Path("forged.json").write_text(json.dumps(forged))
    code, out = run(capsys, "verify", "--checkpoint", "forged.json", "--json")
    assert code == 1 and json.loads(out)["damage"]["kind"] == "checkpoint_invalid"

    superuser_sql(cli, "DELETE FROM EV WHERE notification_id > 9")
    code, out = run(capsys, "verify")
    assert code == 0  # the shorter chain alone is self-consistent
    code, out = run(capsys, "verify", "--checkpoint", "cp.json")
    assert code == 1 and "DAMAGED at position 10: tail_truncated" in out
    code, out = run(capsys, "verify", "--checkpoint", "cp.json", "--json")
    report = json.loads(out)
    assert report["damage"]["kind"] == "tail_truncated" and not report["checkpoint"]["ok"]


def test_cosign_and_keygen(cli: FirmStore, tmp_path: Path,
                           capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "checkpoint", "--out", "cp.json")[0] == 0
    code, out = run(capsys, "checkpoint", "keygen", "--out", "auditor.pem", "--json")
    auditor = json.loads(out)["public_key"]
    assert code == 0 and (tmp_path / "auditor.pem").stat().st_mode & 0o777 == 0o600
    assert run(capsys, "checkpoint", "keygen", "--out", "auditor.pem")[0] == 2
    code, out = run(capsys, "checkpoint", "cosign", "cp.json", "--key", "auditor.pem")
    assert code == 0 and auditor in out
    firm_key = bytes.fromhex(json.loads(Path("cp.json").read_text())["public_key"])
    result = standalone.verify_file(Path("cp.json"), firm_key)
    assert result.ok and result.cosigners == [auditor]
    assert run(capsys, "verify", "--checkpoint", "cp.json")[0] == 0
    assert run(capsys, "checkpoint", "cosign", "cp.json", "--key", "auditor.pem")[0] == 2
    assert run(capsys, "checkpoint", "cosign", "missing.json", "--key", "auditor.pem")[0] == 2
