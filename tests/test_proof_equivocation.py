"""No equivocation: neither the firm nor a witness signs a head that forks what it signed.

The attack is a superuser's: triggers off, an event rewritten, every later hash
recomputed. The chain then verifies on its own, so only the signed history
(the firm's checkpoint table, a witness's state file) can refuse it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.cli import main
from ledger.proof import standalone
from ledger.proof.checkpoint import CheckpointError, create_checkpoint, record_checkpoint
from ledger.proof.history import CheckpointForkError
from ledger.proof.keys import key_fingerprint
from ledger.proof.leaves import read_leaves_at
from ledger.store.firm import FirmStore
from ledger.verify import verify_chain
from tests.chain_helpers import append, rehash, superuser_sql


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def rewrite(store: FirmStore, position: int = 5) -> None:
    """A superuser rewrite that leaves a self-consistent chain behind."""
    superuser_sql(store, "UPDATE EV SET state = '{\"n\":0}' WHERE notification_id = %s",
                  (position,))
    rehash(store, position, all_after=True)
    assert verify_chain(store.location, store.schema).ok


def listed(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    code, out, _ = run(capsys, "checkpoint", "list", "--json")
    assert code == 0
    result: list[dict[str, Any]] = json.loads(out)["checkpoints"]
    return result


def test_checkpoint_refuses_to_sign_a_rewritten_history_at_the_same_position(
        cli: FirmStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "checkpoint", "--out", "first.json")[0] == 0
    signed = json.loads(Path("first.json").read_text())
    rewrite(cli)
    code, out, err = run(capsys, "checkpoint", "--out", "second.json")
    assert code == 1 and out == "" and not Path("second.json").exists()
    assert err.startswith("error: checkpoint_fork: refusing to sign position 12")
    assert signed["head_hash"] in err and err.count("\n") == 1
    code, out, _ = run(capsys, "checkpoint", "--json")
    error = json.loads(out)["error"]
    assert code == 1 and error["kind"] == "checkpoint_fork"
    assert error["signed"]["head_hash"] == signed["head_hash"]
    assert error["head"]["position"] == 12 and error["head"]["head_hash"] != signed["head_hash"]
    assert [c["head_hash"] for c in listed(capsys)] == [signed["head_hash"]]


def test_checkpoint_refuses_a_rewrite_between_two_checkpoints(
        cli: FirmStore, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "checkpoint", "--out", "a.json")[0] == 0
    append(cli, 4)
    assert run(capsys, "checkpoint", "--out", "b.json")[0] == 0  # honest growth is signed
    rewrite(cli, 14)  # after a, before b: only b's record can tell
    append(cli, 3)
    code, out, _ = run(capsys, "checkpoint", "--json")
    assert code == 1 and json.loads(out)["error"]["kind"] == "checkpoint_fork"
    assert "position 16 now has hash" in json.loads(out)["error"]["message"]
    assert [c["position"] for c in listed(capsys)] == [12, 16]


def test_checkpoint_refuses_a_truncated_log(cli: FirmStore,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "checkpoint", "--out", "a.json")[0] == 0
    superuser_sql(cli, "DELETE FROM EV WHERE notification_id > 9")
    code, _, err = run(capsys, "checkpoint")
    assert code == 1 and "checkpoint_fork" in err and "head is now at 9" in err
    append(cli, 5)  # regrown past the signed position: still not the signed history
    code, _, err = run(capsys, "checkpoint")
    assert code == 1 and "checkpoint_fork" in err


def test_checkpoint_refuses_over_an_altered_record(cli: FirmStore,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "checkpoint", "--out", "a.json")[0] == 0
    table = f'"{cli.schema}".checkpoints'
    superuser_sql(cli, f"UPDATE {table} SET document = replace(document, "
                  "'\"position\": 12', '\"position\": 11')")
    code, _, err = run(capsys, "checkpoint")
    assert code == 1 and "checkpoint_fork" in err and "record was altered" in err
    assert [c["signature_valid"] for c in listed(capsys)] == [False]


def test_a_checkpoint_that_lost_a_race_is_not_called_a_fork(
        cli: FirmStore, capsys: pytest.CaptureFixture[str]) -> None:
    key = Ed25519PrivateKey.generate()
    leaves = read_leaves_at(cli.location, cli.schema, cli.events_table, 12)
    body = {k: v for k, v in create_checkpoint(cli, key).items()
            if k not in ("public_key", "signature", "cosignatures")}
    append(cli, 3)
    assert create_checkpoint(cli, key)["position"] == 15
    # a run that read its 12 leaves before the checkpoint at 15 was signed
    with pytest.raises(CheckpointError, match="signed meanwhile; try again"):
        record_checkpoint(cli, body, key, leaves)
    superuser_sql(cli, "DELETE FROM EV WHERE notification_id > 12")
    with pytest.raises(CheckpointForkError, match="head is now at 12"):
        record_checkpoint(cli, body, key, leaves)


def test_checkpoint_list(cli: FirmStore, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "checkpoint", "list")
    assert code == 0 and "no checkpoint has been signed yet" in out
    assert run(capsys, "checkpoint", "--out", "a.json")[0] == 0
    append(cli, 2)
    assert run(capsys, "checkpoint", "--out", "b.json")[0] == 0
    a, b = (json.loads(Path(f).read_text()) for f in ("a.json", "b.json"))
    fingerprint = key_fingerprint(bytes.fromhex(a["public_key"]))
    rows = listed(capsys)
    assert [(r["position"], r["head_hash"], r["merkle_root"], r["signed_at"])
            for r in rows] == [(d["position"], d["head_hash"], d["merkle_root"],
                                d["created_at"]) for d in (a, b)]
    assert {r["key_fingerprint"] for r in rows} == {fingerprint}
    assert all(r["signature_valid"] for r in rows)
    code, out, _ = run(capsys, "checkpoint", "list")
    assert code == 0 and a["head_hash"] in out and b["merkle_root"] in out
    assert fingerprint in out


@pytest.fixture
def firm_key(cli: FirmStore, capsys: pytest.CaptureFixture[str]) -> str:
    """The firm's public key, once an auditor's key (auditor.pem) cosigned a.json (at 12)."""
    code, out, _ = run(capsys, "checkpoint", "keygen", "--out", "auditor.pem", "--json")
    assert code == 0
    assert run(capsys, "checkpoint", "--out", "a.json")[0] == 0
    code, out, _ = run(capsys, "checkpoint", "cosign", "a.json", "--key", "auditor.pem",
                       "--json")
    assert code == 0 and json.loads(out)["state"] == "auditor.witness.json"
    return str(json.loads(Path("a.json").read_text())["public_key"])


def state_positions(path: str = "auditor.witness.json") -> list[int]:
    state = json.loads(Path(path).read_text())
    assert state["format"] == "legal-ledger-witness-state/v1"
    return [d["position"] for d in state["ledgers"].values()]


def test_witness_cosigns_growth_and_refuses_a_fork(
        cli: FirmStore, firm_key: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert state_positions() == [12]
    assert Path("auditor.witness.json").stat().st_mode & 0o777 == 0o600
    append(cli, 3)
    assert run(capsys, "checkpoint", "--out", "b.json")[0] == 0
    code, out, _ = run(capsys, "checkpoint", "cosign", "b.json", "--key", "auditor.pem")
    assert code == 0 and "last cosigned position 15" in out and state_positions() == [15]

    # a superuser rewrites history and erases the firm's record of what it signed, so the
    # firm's own check has nothing to compare against and its key signs the fork
    rewrite(cli, 7)
    append(cli, 2)
    superuser_sql(cli, f'DELETE FROM "{cli.schema}".checkpoints')
    assert run(capsys, "checkpoint", "--out", "fork.json")[0] == 0
    before = Path("fork.json").read_text()
    code, out, _ = run(capsys, "checkpoint", "cosign", "fork.json", "--key", "auditor.pem",
                       "--json")
    error = json.loads(out)["error"]
    assert code == 1 and error["kind"] == "checkpoint_fork"
    assert error["signed"]["position"] == 15 and error["head"]["position"] == 17
    code, _, err = run(capsys, "checkpoint", "cosign", "fork.json", "--key", "auditor.pem")
    assert code == 1 and err.startswith("error: checkpoint_fork: not cosigning position 17")
    assert Path("fork.json").read_text() == before and state_positions() == [15]
    # the cosigned checkpoints still expose the rewrite to anyone who verifies
    code, out, _ = run(capsys, "verify", "--checkpoint", "b.json", "--public-key", firm_key)
    assert code == 1 and "head_mismatch" in out


def test_witness_with_a_proof_file_and_its_own_state_file(
        cli: FirmStore, firm_key: str, capsys: pytest.CaptureFixture[str]) -> None:
    append(cli, 4)
    assert run(capsys, "checkpoint", "--out", "b.json")[0] == 0
    assert run(capsys, "prove-consistency", "a.json", "b.json", "--out", "ab.json")[0] == 0
    code, _, err = run(capsys, "checkpoint", "cosign", "b.json", "--key", "auditor.pem",
                       "--proof", "b.json")
    assert code == 2 and "does not join" in err
    code, out, _ = run(capsys, "checkpoint", "cosign", "b.json", "--key", "auditor.pem",
                       "--proof", "ab.json", "--public-key", firm_key)
    assert code == 0 and "position 16" in out and state_positions() == [16]
    cosigned = standalone.verify_file(Path("b.json"), bytes.fromhex(firm_key))
    assert cosigned.ok and len(cosigned.cosigners) == 1

    # an older checkpoint is not cosigned after a newer one
    bare = {**json.loads(Path("a.json").read_text()), "cosignatures": []}
    Path("a0.json").write_text(json.dumps(bare))
    code, _, err = run(capsys, "checkpoint", "cosign", "a0.json", "--key", "auditor.pem",
                       "--out", "a2.json")
    assert code == 2 and "only cosigns forward" in err
    # another state file starts fresh; a state of another witness key is refused
    assert run(capsys, "checkpoint", "cosign", "a0.json", "--key", "auditor.pem",
               "--out", "a3.json", "--state", "other.json")[0] == 0
    assert state_positions("other.json") == [12]
    assert run(capsys, "checkpoint", "keygen", "--out", "second.pem")[0] == 0
    code, _, err = run(capsys, "checkpoint", "cosign", "a.json", "--key", "second.pem",
                       "--out", "a4.json", "--state", "other.json")
    assert code == 2 and "state of witness key" in err
    # a pinned firm key must match the signer
    code, _, err = run(capsys, "checkpoint", "cosign", "a.json", "--key", "second.pem",
                       "--out", "a5.json", "--public-key", "ab" * 32)
    assert code == 2 and "not by the trusted key" in err
