"""Signed checkpoints: round trip, cosignatures, and ``verify --checkpoint`` against attacks."""

from __future__ import annotations

import json
import stat
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.database import DatabaseLocation
from ledger.proof import standalone
from ledger.proof.audit import CheckpointVerification, verify_against_checkpoint
from ledger.proof.checkpoint import (
    CheckpointError,
    canonical_signed_bytes,
    cosign,
    create_checkpoint,
    read_document,
    sign,
    write_document,
)
from ledger.proof.keys import (
    SigningKeyError,
    firm_key,
    firm_key_path,
    generate_key_file,
    load_key_file,
    public_key_bytes,
)
from ledger.settings import Settings
from ledger.store.firm import FirmStore
from ledger.verify import verify_chain
from tests.chain_helpers import append, rehash, superuser_sql
from tests.support.firms import drop_firm, new_firm_name

N = 10


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.delenv("LEDGER_SIGNING_KEY_FILE", raising=False)
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def key(settings: Settings, firm_store: FirmStore) -> Ed25519PrivateKey:
    created = firm_key(settings, firm_store.firm)
    assert created is not None
    return created


@pytest.fixture
def checkpoint(firm_store: FirmStore, key: Ed25519PrivateKey) -> dict[str, Any]:
    append(firm_store, N, batch=3)
    return create_checkpoint(firm_store, key)


def check(store: FirmStore, document: dict[str, Any], key: Ed25519PrivateKey | None = None
          ) -> CheckpointVerification:
    pinned = public_key_bytes(key) if key is not None else None
    return verify_against_checkpoint(store, document, pinned_key=pinned)


def damage_of(outcome: CheckpointVerification) -> tuple[int, str]:
    assert outcome.report.damage is not None, "damage went undetected"
    assert not outcome.checkpoint["ok"]
    return outcome.report.damage.position, outcome.report.damage.kind


def test_key_is_created_once_with_owner_only_permissions(
        settings: Settings, firm_store: FirmStore) -> None:
    first = firm_key(settings, firm_store.firm)
    path = firm_key_path(settings, firm_store.firm)
    assert path == settings.data_dir / "keys" / f"{firm_store.firm}-ed25519.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = firm_key(settings, firm_store.firm)
    assert first is not None and again is not None
    assert public_key_bytes(first) == public_key_bytes(again)
    path.chmod(0o644)
    with pytest.raises(SigningKeyError):
        load_key_file(path)


def test_signing_key_file_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEDGER_SIGNING_KEY_FILE", str(tmp_path / "elsewhere.pem"))
    settings = Settings(data_dir=tmp_path / "data")
    assert firm_key(settings, "acme") is not None
    assert (tmp_path / "elsewhere.pem").exists()
    assert not (tmp_path / "data" / "keys").exists()


def test_checkpoint_round_trip(firm_store: FirmStore, key: Ed25519PrivateKey,
                               checkpoint: dict[str, Any], tmp_path: Path) -> None:
    head = firm_store.head()
    assert checkpoint["format"] == "legal-ledger-checkpoint/v1"
    assert checkpoint["position"] == N == head.position
    assert checkpoint["head_hash"] == head.hash
    assert checkpoint["ledger_id"] == head.ledger_id
    assert checkpoint["schema"] == firm_store.schema and checkpoint["firm"] == firm_store.firm
    assert head.recorded_at is not None
    assert datetime.fromisoformat(checkpoint["recorded_at"]) == head.recorded_at
    assert checkpoint["recorded_at"].endswith("+00:00")
    assert checkpoint["public_key"] == public_key_bytes(key).hex()
    assert checkpoint["cosignatures"] == []
    # the writer's signed bytes are the independent verifier's, and as documented
    assert canonical_signed_bytes(checkpoint) == standalone.signed_bytes(checkpoint)
    body = {k: v for k, v in checkpoint.items() if k not in ("signature", "cosignatures")}
    assert canonical_signed_bytes(checkpoint) == json.dumps(
        body, sort_keys=True, separators=(",", ":")).encode()
    key.public_key().verify(bytes.fromhex(checkpoint["signature"]),
                            canonical_signed_bytes(checkpoint))

    path = tmp_path / "cp.json"
    write_document(path, checkpoint)
    with pytest.raises(CheckpointError):
        write_document(path, checkpoint)  # never overwritten silently
    assert read_document(path) == checkpoint
    assert standalone.verify_file(path, public_key_bytes(key)).ok
    assert check(firm_store, read_document(path), key).checkpoint["ok"]

    with firm_store.location.connect() as conn:
        rows = conn.execute(f'SELECT position, head_hash, document FROM "{firm_store.schema}"'
                            ".checkpoints").fetchall()
    assert [(r[0], bytes(r[1]).hex(), json.loads(r[2])) for r in rows] == [
        (N, checkpoint["head_hash"], checkpoint)]


@pytest.mark.parametrize("statement", [
    "UPDATE {t} SET position = 1", "DELETE FROM {t}", "TRUNCATE {t}"])
def test_checkpoint_table_is_append_only(firm_store: FirmStore, checkpoint: dict[str, Any],
                                         statement: str) -> None:
    table = f'"{firm_store.schema}".checkpoints'
    with firm_store.location.connect() as conn, pytest.raises(psycopg.Error) as caught:
        conn.execute(statement.format(t=table))
    assert caught.value.sqlstate == "LA001"


def test_refuses_to_sign_an_empty_or_damaged_chain(firm_store: FirmStore,
                                                   key: Ed25519PrivateKey) -> None:
    with pytest.raises(CheckpointError, match="no events"):
        create_checkpoint(firm_store, key)
    append(firm_store, 5)
    superuser_sql(firm_store, "UPDATE EV SET state = '{}' WHERE notification_id = 3")
    with pytest.raises(CheckpointError, match="damaged at position 3"):
        create_checkpoint(firm_store, key)


def test_cosign(firm_store: FirmStore, checkpoint: dict[str, Any], key: Ed25519PrivateKey,
                tmp_path: Path) -> None:
    auditor = generate_key_file(tmp_path / "auditor.pem")
    assert stat.S_IMODE((tmp_path / "auditor.pem").stat().st_mode) == 0o600
    with pytest.raises(SigningKeyError):
        generate_key_file(tmp_path / "auditor.pem")
    cosigned = cosign(checkpoint, auditor)
    second = cosign(cosigned, Ed25519PrivateKey.generate())
    result = standalone.verify_document(second, public_key_bytes(key))
    assert result.ok and result.cosigners[0] == public_key_bytes(auditor).hex()
    assert len(result.cosigners) == 2
    assert canonical_signed_bytes(second) == canonical_signed_bytes(checkpoint)
    assert check(firm_store, second, key).checkpoint["ok"]
    with pytest.raises(CheckpointError):
        cosign(cosigned, auditor)  # once per key
    forged = {**cosigned, "cosignatures": [{**cosigned["cosignatures"][0],
                                            "signature": "00" * 64}]}
    assert damage_of(check(firm_store, forged, key)) == (0, "checkpoint_invalid")
    with pytest.raises(CheckpointError):
        cosign({**checkpoint, "position": 3}, auditor)  # nothing forged gets cosigned


def test_verify_passes_on_a_grown_log(firm_store: FirmStore, checkpoint: dict[str, Any],
                                      key: Ed25519PrivateKey) -> None:
    append(firm_store, 7)
    outcome = check(firm_store, checkpoint, key)
    assert outcome.ok and outcome.report.checked == N + 7
    assert outcome.checkpoint["merkle_root_status"] == "matches"
    data = outcome.as_dict()
    assert data["ok"] and data["checkpoint"]["ok"] and data["known_head"]["position"] == N


def test_truncated_tail_is_detected(firm_store: FirmStore, checkpoint: dict[str, Any],
                                    key: Ed25519PrivateKey) -> None:
    superuser_sql(firm_store, "DELETE FROM EV WHERE notification_id > 7")
    assert damage_of(check(firm_store, checkpoint, key)) == (8, "tail_truncated")


def test_truncated_and_regrown_is_detected(firm_store: FirmStore, checkpoint: dict[str, Any],
                                           key: Ed25519PrivateKey) -> None:
    superuser_sql(firm_store, "DELETE FROM EV WHERE notification_id > 7")
    append(firm_store, 6)
    assert damage_of(check(firm_store, checkpoint, key)) == (N, "head_mismatch")


@pytest.mark.parametrize("grown", [0, 5])
def test_history_fully_recomputed_by_an_attacker_is_detected(
        firm_store: FirmStore, checkpoint: dict[str, Any], key: Ed25519PrivateKey,
        grown: int) -> None:
    append(firm_store, grown)
    superuser_sql(firm_store, "UPDATE EV SET state = '{\"n\":0}' WHERE notification_id = 5")
    rehash(firm_store, 5, all_after=True)
    assert verify_chain(firm_store.location, firm_store.schema).ok  # self-consistent again
    assert damage_of(check(firm_store, checkpoint, key)) == (N, "head_mismatch")


@pytest.mark.parametrize(("name", "value"), [
    ("position", 9), ("head_hash", "00" * 32), ("merkle_root", "11" * 32),
    ("firm", "other"), ("created_at", "2020-01-01T00:00:00+00:00"),
    ("recorded_at", "2020-01-01T00:00:00+00:00"), ("signature", "22" * 64),
    ("ledger_id", "00000000-0000-0000-0000-000000000000"), ("public_key", "33" * 32),
])
def test_forged_checkpoint_field_is_detected(firm_store: FirmStore, checkpoint: dict[str, Any],
                                             key: Ed25519PrivateKey, name: str,
                                             value: Any) -> None:
    forged = {**checkpoint, name: value}
    assert damage_of(check(firm_store, forged, key)) == (0, "checkpoint_invalid")
    assert damage_of(check(firm_store, forged)) == (0, "checkpoint_invalid")


def test_checkpoint_signed_by_another_key_is_refused_when_the_key_is_pinned(
        firm_store: FirmStore, checkpoint: dict[str, Any], key: Ed25519PrivateKey) -> None:
    body = {k: v for k, v in checkpoint.items()
            if k not in ("public_key", "signature", "cosignatures")}
    resigned = sign({**body, "position": 9}, Ed25519PrivateKey.generate())
    outcome = check(firm_store, resigned, key)
    assert damage_of(outcome) == (0, "checkpoint_invalid")
    assert "not by the trusted key" in outcome.report.damage.detail  # type: ignore[union-attr]


def test_wrong_merkle_root_signed_by_the_firm_is_named(
        firm_store: FirmStore, checkpoint: dict[str, Any], key: Ed25519PrivateKey) -> None:
    body = {k: v for k, v in checkpoint.items()
            if k not in ("public_key", "signature", "cosignatures")}
    wrong = sign({**body, "merkle_root": "44" * 32}, key)
    assert damage_of(check(firm_store, wrong, key)) == (N, "merkle_root_mismatch")


def test_checkpoint_of_another_ledger_is_named(database: DatabaseLocation,
                                               checkpoint: dict[str, Any],
                                               key: Ed25519PrivateKey) -> None:
    other = FirmStore(database, new_firm_name(), pool_size=2)
    other.ensure()
    try:
        append(other, N)
        assert damage_of(check(other, checkpoint, key)) == (0, "checkpoint_other_ledger")
    finally:
        drop_firm(database, other)
