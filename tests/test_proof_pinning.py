"""Pinned trust: a proof verifies only against a key the verifier chose beforehand.

The forgery these tests build is the one an attacker needs no secret for: alter
an event, recompute its hash, its Merkle path's root, and sign the checkpoint
with a fresh key. Every byte of it is self-consistent; only a pinned key tells.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.cli import main
from ledger.proof import standalone
from ledger.proof.checkpoint import sign
from ledger.proof.keys import key_fingerprint
from ledger.store.firm import FirmStore

STANDALONE = Path(standalone.__file__)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def forge(bundle: dict[str, Any]) -> dict[str, Any]:
    """Alter the first event's topic; recompute its hash, the root, and re-sign with a new key."""
    checkpoint, event = bundle["checkpoint"], dict(bundle["events"][0])
    event["topic"] += "Forged"
    ledger_id = uuid.UUID(checkpoint["ledger_id"]).bytes
    digest = standalone.event_hash(ledger_id, event, base64.b64decode(event["payload"]),
                                   uuid.UUID(event["originator_id"]).bytes,
                                   bytes.fromhex(event["prev_hash"]))
    event["hash"] = digest.hex()
    path = [bytes.fromhex(p) for p in event["audit_path"]]
    root = standalone.inclusion_root(event["position"] - 1, checkpoint["position"], digest, path)
    assert root is not None
    body = {k: v for k, v in checkpoint.items()
            if k not in ("public_key", "signature", "cosignatures")}
    forged = sign({**body, "merkle_root": root.hex()}, Ed25519PrivateKey.generate())
    return {"format": bundle["format"], "checkpoint": forged, "events": [event]}


@pytest.fixture
def bundles(cli: FirmStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """A genuine bundle (bundle.json) and its forgery (forged.json); returns the firm's key."""
    assert run(capsys, "checkpoint", "--out", "cp.json")[0] == 0
    assert run(capsys, "prove", "--positions", "4", "--checkpoint", "cp.json",
               "--out", "bundle.json")[0] == 0
    genuine = json.loads(Path("bundle.json").read_text())
    forged = forge(genuine)
    Path("forged.json").write_text(json.dumps(forged))
    # the forgery is internally perfect: only the key it is checked against can tell
    assert standalone.verify_bundle(forged, standalone.Trust(embedded=True)).ok
    return str(genuine["checkpoint"]["public_key"])


def test_verify_bundle_refuses_without_a_pinned_key(
        bundles: str, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("forged.json", "bundle.json"):
        code, out, err = run(capsys, "verify-bundle", name)
        assert code == 2 and "OK" not in out
        assert err.count("\n") == 1 and "no trusted key" in err and "--public-key" in err


def test_verify_bundle_rejects_the_forgery_with_each_kind_of_pin(
        bundles: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fingerprint = hashlib.sha256(bytes.fromhex(bundles)).hexdigest()
    assert fingerprint == key_fingerprint(bytes.fromhex(bundles))
    Path("trusted.txt").write_text(f"# keys we were given in person\n\n"
                                   f"{'ab' * 32}  an old key\n{bundles.upper()} the firm\n")
    pins = [["--public-key", bundles], ["--key-fingerprint", fingerprint],
            ["--trusted-keys", "trusted.txt"],
            ["--public-key", "cd" * 32, "--public-key", bundles]]
    for pin in pins:
        code, out, _ = run(capsys, "verify-bundle", "bundle.json", *pin)
        assert code == 0 and "events proven: 4" in out and fingerprint in out, pin
        code, out, _ = run(capsys, "verify-bundle", "forged.json", *pin)
        assert code == 1 and "not by the trusted key" in out, pin
    code, out, _ = run(capsys, "verify-bundle", "forged.json", "--json", "--public-key", bundles)
    result = json.loads(out)
    assert code == 1 and not result["ok"] and not result["key_pinned"]
    code, out, _ = run(capsys, "verify-bundle", "bundle.json", "--json", "--public-key", bundles)
    result = json.loads(out)
    assert result["ok"] and result["key_pinned"] and result["key_fingerprint"] == fingerprint


def test_standalone_verifier_copied_alone_needs_a_pin(
        bundles: str, tmp_path: Path) -> None:
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(STANDALONE, alone / "verify.py")
    shutil.copy("forged.json", alone / "forged.json")
    shutil.copy("bundle.json", alone / "bundle.json")

    def script(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-I", "verify.py", *argv], cwd=alone,
                              capture_output=True, text=True, check=False, timeout=60)

    unpinned = script("forged.json")
    assert unpinned.returncode == 2 and "no trusted key" in unpinned.stderr
    assert "OK" not in unpinned.stdout
    pinned = script("forged.json", "--public-key", bundles)
    assert pinned.returncode == 1 and "FAILED" in pinned.stdout
    assert script("bundle.json", "--public-key", bundles).returncode == 0
    fingerprint = key_fingerprint(bytes.fromhex(bundles))
    assert script("bundle.json", "--key-fingerprint", fingerprint).returncode == 0
    assert script("forged.json", "--key-fingerprint", fingerprint).returncode == 1
    assert standalone.main(["forged.json"]) == 2
    assert standalone.main(["bundle.json", "--trusted-keys", "missing.txt"]) == 2


@pytest.mark.parametrize(("text", "problem"), [
    ("", "holds no key"),
    ("# only a comment\n\n", "holds no key"),
    ("ab" * 31 + "\n", "line 1"),
    ("# c\n" + "zz" * 32 + " label\n", "line 2"),
    ("ssh-ed25519 AAAA\n", "line 1"),
])
def test_trusted_keys_file_format_is_strict(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        standalone.parse_trusted_keys(text)


def test_trusted_keys_file_accepts_comments_labels_and_either_case() -> None:
    text = f"# firm keys\n  {'AB' * 32}\tcurrent key\n\n  # retired\n{'cd' * 32}\n"
    assert standalone.parse_trusted_keys(text) == {bytes.fromhex("ab" * 32),
                                                   bytes.fromhex("cd" * 32)}


def test_verify_checkpoint_needs_a_pin_when_there_is_no_firm_key_file(
        cli: FirmStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "checkpoint", "--out", "cp.json")[0] == 0
    document = json.loads(Path("cp.json").read_text())
    # an auditor's machine: no firm key file, only the checkpoint it was given
    monkeypatch.setenv("LEDGER_DATA_DIR", str(tmp_path / "auditor"))
    code, out, err = run(capsys, "verify", "--checkpoint", "cp.json")
    assert code == 2 and out == "" and "no trusted key" in err and "--key-fingerprint" in err
    fingerprint = key_fingerprint(bytes.fromhex(document["public_key"]))
    code, out, _ = run(capsys, "verify", "--checkpoint", "cp.json", "--json",
                       "--key-fingerprint", fingerprint)
    report = json.loads(out)
    assert code == 0 and report["checkpoint"]["ok"]
    assert report["checkpoint"]["key_source"] == "given"
    assert report["checkpoint"]["key_fingerprint"] == fingerprint
    Path("keys.txt").write_text(f"{document['public_key']} acme LLP\n")
    assert run(capsys, "verify", "--checkpoint", "cp.json", "--trusted-keys", "keys.txt")[0] == 0
    code, _, err = run(capsys, "verify", "--checkpoint", "cp.json", "--key-fingerprint", "12")
    assert code == 2 and "--key-fingerprint is 64 hex digits" in err


def test_verify_checkpoint_refuses_one_signed_with_a_fresh_key(
        cli: FirmStore, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "checkpoint", "--out", "cp.json")[0] == 0
    genuine = json.loads(Path("cp.json").read_text())
    body = {k: v for k, v in genuine.items()
            if k not in ("public_key", "signature", "cosignatures")}
    Path("resigned.json").write_text(json.dumps(sign(body, Ed25519PrivateKey.generate())))
    # the firm's own key file is the pin on the firm's machine; the file's key never is
    code, out, _ = run(capsys, "verify", "--checkpoint", "resigned.json", "--json")
    report = json.loads(out)
    assert code == 1 and report["damage"]["kind"] == "checkpoint_invalid"
    assert report["checkpoint"]["key_source"] == "firm key file"
    assert "not by the trusted key" in report["damage"]["detail"]
    code, out, _ = run(capsys, "verify", "--checkpoint", "resigned.json",
                       "--public-key", genuine["public_key"])
    assert code == 1 and "checkpoint_invalid" in out
    assert run(capsys, "verify", "--checkpoint", "cp.json")[0] == 0


def test_prove_needs_a_trusted_key_too(cli: FirmStore, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "checkpoint", "--out", "cp.json")[0] == 0
    key = json.loads(Path("cp.json").read_text())["public_key"]
    monkeypatch.setenv("LEDGER_DATA_DIR", str(tmp_path / "elsewhere"))
    code, _, err = run(capsys, "prove", "--positions", "2", "--checkpoint", "cp.json")
    assert code == 2 and "no trusted key" in err
    assert run(capsys, "prove", "--positions", "2", "--checkpoint", "cp.json",
               "--public-key", key)[0] == 0
