"""A verifier of checkpoints and proof files that needs no database and no ledger code.

Why standalone: a client or an auditor should be able to check what they were
given with the Python standard library and the ``cryptography`` package alone
(copy this file; ``python standalone.py FILE --public-key HEX``). It imports
nothing from the ledger and re-implements, on purpose, the event hash layout,
the RFC 9162 Merkle verification and the checkpoint's signed bytes. It is one
file on purpose, longer than the ledger's other modules, so it can be copied alone.

Checkpoint (``legal-ledger-checkpoint/v1``), a JSON object with exactly::

    format        "legal-ledger-checkpoint/v1"
    firm, schema  the firm's name and its PostgreSQL schema
    ledger_id     the chain's UUID, canonical lower-case text
    position      int >= 1, the head's position = the Merkle tree's size
    head_hash     hex (64 lower-case digits) of the event hash at ``position``
    merkle_root   hex of the RFC 9162 root over the event hashes 1..position
    recorded_at   the head event's recorded_at, ISO 8601 with offset
    created_at    when the checkpoint was signed (database clock), ISO 8601
    public_key    hex of the firm's raw 32-byte Ed25519 public key
    signature     hex of the firm's 64-byte Ed25519 signature over the signed bytes
    cosignatures  list of {"public_key", "signature"} (hex), auditors' signatures
                  over the same signed bytes

Signed bytes: the document without ``signature`` and ``cosignatures``,
serialised as JSON with keys sorted, no whitespace (separators ``,`` and
``:``), encoded as UTF-8. Every value is an integer or a printable-ASCII
string, so this equals RFC 8785 (JCS) canonical JSON. In Python::

    json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

Event hash (the chain's layout; ``lp(x)`` = 4-byte big-endian length ‖ x,
``int64`` = 8-byte big-endian)::

    SHA-256(lp(b"legal-ledger/event/v1") ‖ ledger_id (16 bytes) ‖ int64(position)
            ‖ prev_hash ‖ originator_id (16 bytes) ‖ int64(originator_version)
            ‖ lp(topic UTF-8) ‖ lp(payload) ‖ int64(recorded_at µs since the epoch))
    prev_hash of position 1 = SHA-256(lp(b"legal-ledger/genesis/v1") ‖ ledger_id)

Merkle tree: RFC 9162 §2.1; leaf i = the event hash of position i + 1.

Inclusion bundle (``legal-ledger-inclusion-bundle/v1``)::

    {"format": "legal-ledger-inclusion-bundle/v1",
     "checkpoint": {a signed checkpoint, as above},
     "events": [{"position": int, "originator_id": uuid text,
                 "originator_version": int, "topic": str,
                 "payload": standard base64 (with padding) of the stored bytes,
                 "recorded_at": int µs since 1970-01-01T00:00:00Z,
                 "prev_hash": hex, "hash": hex,
                 "audit_path": [hex, ...]}, ...]}   (ascending positions)

Each event's hash is recomputed from its fields and must equal ``hash``;
``audit_path`` is RFC 9162 ``PATH(position - 1, D[checkpoint.position])`` and
must lead to ``checkpoint.merkle_root``. Position 1 must link to the genesis
hash, neighbouring positions to each other, and the checkpoint's own position
to ``head_hash``.

Consistency proof (``legal-ledger-consistency-proof/v1``)::

    {"format": "legal-ledger-consistency-proof/v1",
     "old": {signed checkpoint}, "new": {signed checkpoint},
     "consistency_path": [hex, ...],     RFC 9162 PROOF(old.position, D[new.position])
     "old_head_audit_path": [hex, ...]}  PATH(old.position - 1, D[new.position])

Both checkpoints must be signed by the same key, of the same ledger, with
``old.position <= new.position``; the path proves the old tree is a prefix of
the new one, and the audit path that the old head hash is where the old
checkpoint said it was.

Hex is lower-case and base64 canonical: a file whose bytes differ but decode
to the same values is refused, so no byte of a proof can change unnoticed.

Trust: a file never vouches for itself. Anyone can recompute a Merkle path and
root and sign a forged checkpoint with a fresh key, so every checkpoint's
``public_key`` must be one the verifier pinned beforehand, obtained from the
firm through another channel: ``--public-key HEX`` (64 hex digits, the raw
32-byte key; repeatable), ``--trusted-keys FILE`` or ``--key-fingerprint HEX``
(repeatable). A key fingerprint is SHA-256 of the raw 32-byte public key, as 64
hex digits. A trusted-keys file is UTF-8 text, one key per line: the key as 64
hex digits, optionally followed by whitespace and a free label; blank lines
and lines whose first non-blank character is ``#`` are ignored; any other line
makes the whole file invalid; it must hold at least one key. Without any of
these, nothing verifies.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import struct
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

CHECKPOINT_FORMAT = "legal-ledger-checkpoint/v1"
BUNDLE_FORMAT = "legal-ledger-inclusion-bundle/v1"
CONSISTENCY_FORMAT = "legal-ledger-consistency-proof/v1"
UNSIGNED_FIELDS = ("signature", "cosignatures")
CHECKPOINT_FIELDS = frozenset({
    "format", "firm", "schema", "ledger_id", "position", "head_hash", "merkle_root",
    "recorded_at", "created_at", "public_key", "signature", "cosignatures",
})
EVENT_FIELDS = frozenset({
    "position", "originator_id", "originator_version", "topic", "payload", "recorded_at",
    "prev_hash", "hash", "audit_path",
})
EVENT_TAG = b"legal-ledger/event/v1"
GENESIS_TAG = b"legal-ledger/genesis/v1"


class Invalid(Exception):
    """One reason a document does not verify."""


NO_TRUST = ("no trusted key was given (pass --public-key HEX, --trusted-keys FILE or "
            "--key-fingerprint HEX); the key inside the file is not trusted")


def fingerprint(public_key: bytes) -> bytes:
    """A key's fingerprint: SHA-256 of its raw 32 bytes."""
    return hashlib.sha256(public_key).digest()


@dataclass(frozen=True)
class Trust:
    """The keys a verifier accepts as the firm's signer, pinned before reading a file.

    ``embedded`` accepts the document's own key: an integrity check only, for
    code that produces proofs from its own database; the command line never
    sets it.
    """

    keys: frozenset[bytes] = frozenset()
    fingerprints: frozenset[bytes] = frozenset()
    embedded: bool = False

    def pins(self) -> bool:
        return bool(self.keys or self.fingerprints)

    def pinned(self, key: bytes) -> bool:
        return key in self.keys or fingerprint(key) in self.fingerprints

    def trusts(self, key: bytes) -> bool:
        return self.embedded or self.pinned(key)


Pin = Trust | bytes | None
"""What the checks accept: a ``Trust``, one raw key, or nothing (then nothing verifies)."""


def as_trust(pin: Pin) -> Trust | None:
    return Trust(keys=frozenset({pin})) if isinstance(pin, bytes) else pin


def hex_bytes(text: str, name: str) -> bytes:
    """32 bytes given as 64 hex digits (either case), or ValueError naming ``name``."""
    try:
        raw = bytes.fromhex(text.strip())
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise ValueError(f"{name} is 64 hex digits")
    return raw


def parse_trusted_keys(text: str, source: str = "the trusted-keys file") -> frozenset[bytes]:
    """The keys of a trusted-keys file (format in the module docstring)."""
    keys: set[bytes] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        words = line.split(None, 1)
        if not words or words[0].startswith("#"):
            continue
        try:
            keys.add(hex_bytes(words[0], "a key"))
        except ValueError:
            raise ValueError(f"{source}, line {number}: not a public key "
                             "(64 hex digits, then an optional label)") from None
    if not keys:
        raise ValueError(f"{source} holds no key")
    return frozenset(keys)


def trust_from(public_keys: Sequence[str] = (), trusted_keys: Path | None = None,
               fingerprints: Sequence[str] = ()) -> Trust | None:
    """The trust the command-line flags give, None when none was given (ValueError if bad)."""
    keys = {hex_bytes(k, "--public-key") for k in public_keys}
    if trusted_keys is not None:
        try:
            text = trusted_keys.read_text(encoding="utf-8")
        except (OSError, UnicodeError) as exc:
            raise ValueError(f"cannot read the trusted-keys file {trusted_keys}: "
                             f"{getattr(exc, 'strerror', None) or exc}") from None
        keys |= parse_trusted_keys(text, str(trusted_keys))
    prints = frozenset(hex_bytes(f, "--key-fingerprint") for f in fingerprints)
    if not keys and not prints:
        return None
    return Trust(keys=frozenset(keys), fingerprints=prints)


@dataclass
class Result:
    """The outcome for one file: ``ok`` and, when not, every problem found."""

    format: str
    ok: bool = True
    problems: list[str] = field(default_factory=list)
    key_pinned: bool = False
    public_key: str | None = None
    key_fingerprint: str | None = None
    position: int | None = None
    merkle_root: str | None = None
    events: list[int] = field(default_factory=list)
    cosigners: list[str] = field(default_factory=list)

    def fail(self, problem: str) -> None:
        self.ok = False
        self.problems.append(problem)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def signed_bytes(checkpoint: dict[str, Any]) -> bytes:
    """The bytes the firm and every cosigner sign (see the module docstring)."""
    body = {k: v for k, v in checkpoint.items() if k not in UNSIGNED_FIELDS}
    return json.dumps(body, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def _hex(value: Any, size: int, name: str) -> bytes:
    if not isinstance(value, str):
        raise Invalid(f"{name} is not a hex string")
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raise Invalid(f"{name} is not hex") from None
    if len(raw) != size or raw.hex() != value:
        raise Invalid(f"{name} is not {2 * size} lower-case hex digits")
    return raw


def _int(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise Invalid(f"{name} is not an integer >= {minimum}")
    return value


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.isascii() or not value.isprintable():
        raise Invalid(f"{name} is not a printable ASCII string")
    return value


def _uuid(value: Any, name: str) -> bytes:
    try:
        parsed = uuid.UUID(_text(value, name))
    except ValueError:
        raise Invalid(f"{name} is not a UUID") from None
    if str(parsed) != value:
        raise Invalid(f"{name} is not a canonical lower-case UUID")
    return parsed.bytes


def _moment(value: Any, name: str) -> None:
    try:
        moment = datetime.fromisoformat(_text(value, name))
    except ValueError:
        raise Invalid(f"{name} is not an ISO 8601 time") from None
    if moment.tzinfo is None or moment.isoformat() != value:
        raise Invalid(f"{name} is not an ISO 8601 time with offset in canonical form")


def _signature_ok(public_key: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def check_checkpoint(doc: Any, result: Result, pin: Pin, label: str) -> None:
    """Every field well-formed, signed by a trusted key, every cosignature valid."""
    if not isinstance(doc, dict) or set(doc) != CHECKPOINT_FIELDS:
        raise Invalid(f"{label} does not have exactly the fields of {CHECKPOINT_FORMAT}")
    if doc["format"] != CHECKPOINT_FORMAT:
        raise Invalid(f"{label} is not a {CHECKPOINT_FORMAT} document")
    _text(doc["firm"], f"{label}.firm")
    _text(doc["schema"], f"{label}.schema")
    _uuid(doc["ledger_id"], f"{label}.ledger_id")
    _int(doc["position"], f"{label}.position", 1)
    _hex(doc["head_hash"], 32, f"{label}.head_hash")
    _hex(doc["merkle_root"], 32, f"{label}.merkle_root")
    _moment(doc["recorded_at"], f"{label}.recorded_at")
    _moment(doc["created_at"], f"{label}.created_at")
    key = _hex(doc["public_key"], 32, f"{label}.public_key")
    signature = _hex(doc["signature"], 64, f"{label}.signature")
    message = signed_bytes(doc)
    trust = as_trust(pin)
    result.public_key = doc["public_key"]
    result.key_fingerprint = fingerprint(key).hex()
    result.key_pinned = trust is not None and trust.pinned(key)
    if trust is None or not (trust.pins() or trust.embedded):
        result.fail(f"{label}: {NO_TRUST}")
    elif not trust.trusts(key):
        result.fail(f"{label} is signed by {key.hex()} (fingerprint {fingerprint(key).hex()}), "
                    "not by the trusted key(s)")
    if not _signature_ok(key, signature, message):
        result.fail(f"{label}: the firm's signature does not verify")
    if not isinstance(doc["cosignatures"], list):
        raise Invalid(f"{label}.cosignatures is not a list")
    for i, cosignature in enumerate(doc["cosignatures"]):
        name = f"{label}.cosignatures[{i}]"
        if not isinstance(cosignature, dict) or set(cosignature) != {"public_key", "signature"}:
            raise Invalid(f"{name} is not {{public_key, signature}}")
        co_key = _hex(cosignature["public_key"], 32, f"{name}.public_key")
        co_sig = _hex(cosignature["signature"], 64, f"{name}.signature")
        if not _signature_ok(co_key, co_sig, message):
            result.fail(f"{name}: the cosignature does not verify")
        elif co_key.hex() not in result.cosigners:
            result.cosigners.append(co_key.hex())


def event_hash(ledger_id: bytes, event: dict[str, Any], payload: bytes,
               originator_id: bytes, prev_hash: bytes) -> bytes:
    """The chain's event hash, recomputed from a bundle's fields."""
    topic = event["topic"].encode("utf-8")
    digest = hashlib.sha256(struct.pack(">I", len(EVENT_TAG)) + EVENT_TAG + ledger_id)
    digest.update(struct.pack(">q", event["position"]) + prev_hash + originator_id)
    digest.update(struct.pack(">qI", event["originator_version"], len(topic)) + topic)
    digest.update(struct.pack(">I", len(payload)) + payload)
    digest.update(struct.pack(">q", event["recorded_at"]))
    return digest.digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def inclusion_root(index: int, size: int, leaf: bytes, path: Sequence[bytes]) -> bytes | None:
    """RFC 9162 §2.1.3.2: the root an audit path leads to, None if it cannot."""
    if not 0 <= index < size:
        return None
    fn, sn, r = index, size - 1, hashlib.sha256(b"\x00" + leaf).digest()
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = _node(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = _node(r, p)
        fn, sn = fn >> 1, sn >> 1
    return r if sn == 0 else None


def consistent(first: int, second: int, first_hash: bytes, second_hash: bytes,
               path: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2 (equal sizes: empty path and equal roots)."""
    if not 0 < first <= second:
        return False
    if first == second:
        return not path and first_hash == second_hash
    nodes = list(path)
    if not nodes:
        return False
    if first & (first - 1) == 0:
        nodes.insert(0, first_hash)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = nodes[0]
    for c in nodes[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = _node(c, fr), _node(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = _node(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == first_hash and sr == second_hash and sn == 0


def _path(value: Any, name: str) -> list[bytes]:
    if not isinstance(value, list):
        raise Invalid(f"{name} is not a list")
    return [_hex(p, 32, f"{name}[{i}]") for i, p in enumerate(value)]


def _payload(value: Any, name: str) -> bytes:
    if not isinstance(value, str):
        raise Invalid(f"{name} is not base64 text")
    try:
        raw = base64.b64decode(value, validate=True)
    except binascii.Error:
        raise Invalid(f"{name} is not base64") from None
    if base64.b64encode(raw).decode("ascii") != value:
        raise Invalid(f"{name} is not canonical base64")
    return raw


def _check_event(event: Any, i: int, checkpoint: dict[str, Any], previous: dict[str, Any] | None,
                 result: Result) -> None:
    name = f"events[{i}]"
    if not isinstance(event, dict) or set(event) != EVENT_FIELDS:
        raise Invalid(f"{name} does not have exactly the fields of an event")
    position = _int(event["position"], f"{name}.position", 1)
    _int(event["originator_version"], f"{name}.originator_version", 0)
    _int(event["recorded_at"], f"{name}.recorded_at", -(2**63))
    if not isinstance(event["topic"], str):
        raise Invalid(f"{name}.topic is not a string")
    originator = _uuid(event["originator_id"], f"{name}.originator_id")
    payload = _payload(event["payload"], f"{name}.payload")
    prev_hash = _hex(event["prev_hash"], 32, f"{name}.prev_hash")
    stored = _hex(event["hash"], 32, f"{name}.hash")
    path = _path(event["audit_path"], f"{name}.audit_path")
    ledger_id = uuid.UUID(checkpoint["ledger_id"]).bytes
    size, root = checkpoint["position"], bytes.fromhex(checkpoint["merkle_root"])
    if previous is not None and position <= previous["position"]:
        raise Invalid(f"{name}: positions are not in ascending order")
    if position > size:
        result.fail(f"{name}: position {position} is beyond the checkpoint ({size})")
        return
    if event_hash(ledger_id, event, payload, originator, prev_hash) != stored:
        result.fail(f"{name} (position {position}): the hash does not match the event's fields")
    if inclusion_root(position - 1, size, stored, path) != root:
        result.fail(f"{name} (position {position}): the audit path does not lead to the root")
    if position == 1:
        genesis = hashlib.sha256(struct.pack(">I", len(GENESIS_TAG)) + GENESIS_TAG + ledger_id)
        if prev_hash != genesis.digest():
            result.fail(f"{name}: position 1 does not link to the ledger's genesis")
    if previous is not None and previous["position"] == position - 1 and \
            previous["hash"] != event["prev_hash"]:
        result.fail(f"{name}: does not link to position {position - 1}")
    if position == size and event["hash"] != checkpoint["head_hash"]:
        result.fail(f"{name}: the head event is not the checkpoint's head hash")
    if not result.problems:
        result.events.append(position)


def verify_bundle(doc: Any, pin: Pin = None) -> Result:
    """Check an inclusion bundle: signature(s), every event's hash and audit path."""
    result = Result(BUNDLE_FORMAT)
    try:
        if not isinstance(doc, dict) or set(doc) != {"format", "checkpoint", "events"}:
            raise Invalid("the bundle does not have exactly format, checkpoint and events")
        if doc["format"] != BUNDLE_FORMAT:
            raise Invalid(f"the bundle's format is not {BUNDLE_FORMAT}")
        checkpoint = doc["checkpoint"]
        check_checkpoint(checkpoint, result, pin, "checkpoint")
        result.position, result.merkle_root = checkpoint["position"], checkpoint["merkle_root"]
        events = doc["events"]
        if not isinstance(events, list) or not events:
            raise Invalid("the bundle holds no events")
        previous: dict[str, Any] | None = None
        for i, event in enumerate(events):
            _check_event(event, i, checkpoint, previous, result)
            previous = event
    except Invalid as exc:
        result.fail(str(exc))
    if not result.ok:
        result.events = []
    return result


def verify_consistency_proof(doc: Any, pin: Pin = None) -> Result:
    """Check that the newer signed checkpoint extends the older one."""
    result = Result(CONSISTENCY_FORMAT)
    try:
        fields = {"format", "old", "new", "consistency_path", "old_head_audit_path"}
        if not isinstance(doc, dict) or set(doc) != fields:
            raise Invalid("the proof does not have exactly the fields of " + CONSISTENCY_FORMAT)
        if doc["format"] != CONSISTENCY_FORMAT:
            raise Invalid(f"the proof's format is not {CONSISTENCY_FORMAT}")
        old, new = doc["old"], doc["new"]
        check_checkpoint(old, result, pin, "old")
        check_checkpoint(new, result, pin, "new")
        path = _path(doc["consistency_path"], "consistency_path")
        head_path = _path(doc["old_head_audit_path"], "old_head_audit_path")
        result.position, result.merkle_root = new["position"], new["merkle_root"]
        if old["public_key"] != new["public_key"]:
            result.fail("the two checkpoints are signed by different keys")
        for name in ("ledger_id", "firm", "schema"):
            if old[name] != new[name]:
                result.fail(f"the two checkpoints are of different ledgers ({name})")
        m, n = old["position"], new["position"]
        if m > n:
            raise Invalid(f"the old checkpoint ({m}) is ahead of the new one ({n})")
        old_root, new_root = bytes.fromhex(old["merkle_root"]), bytes.fromhex(new["merkle_root"])
        if not consistent(m, n, old_root, new_root, path):
            result.fail(f"the tree at {n} does not extend the tree at {m}: history changed")
        if inclusion_root(m - 1, n, bytes.fromhex(old["head_hash"]), head_path) != new_root:
            result.fail(f"the old head hash is not at position {m} of the new tree")
    except Invalid as exc:
        result.fail(str(exc))
    return result


def verify_document(doc: Any, pin: Pin = None) -> Result:
    """Dispatch on the document's ``format`` (a bare checkpoint is checked too)."""
    kind = doc.get("format") if isinstance(doc, dict) else None
    if kind == BUNDLE_FORMAT:
        return verify_bundle(doc, pin)
    if kind == CONSISTENCY_FORMAT:
        return verify_consistency_proof(doc, pin)
    result = Result(str(kind) if isinstance(kind, str) else "unknown")
    if kind != CHECKPOINT_FORMAT:
        result.fail("not a checkpoint, inclusion bundle or consistency proof")
        return result
    try:
        check_checkpoint(doc, result, pin, "checkpoint")
        result.position, result.merkle_root = doc["position"], doc["merkle_root"]
    except Invalid as exc:
        result.fail(str(exc))
    return result


def verify_file(path: Path, pin: Pin = None) -> Result:
    """Read and check a file; raises OSError or ValueError when it is not JSON at all."""
    return verify_document(json.loads(path.read_bytes()), pin)


def summary(result: Result) -> list[str]:
    """Human-readable lines for a result."""
    if not result.ok:
        return [f"FAILED ({result.format}): {p}" for p in result.problems]
    lines = [f"OK ({result.format}): tree size {result.position}, "
             f"root {result.merkle_root}, signed by {result.public_key} "
             f"(fingerprint {result.key_fingerprint})"]
    if result.events:
        lines.append("events proven: " + ", ".join(str(p) for p in result.events))
    if result.cosigners:
        lines.append("cosigned by: " + ", ".join(result.cosigners))
    if not result.key_pinned:
        lines.append("note: checked against the key inside the file, which proves integrity "
                     "only")
    return lines


def add_trust_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags that pin the firm's key (see "Trust" in the module docstring)."""
    parser.add_argument("--public-key", action="append", default=[], metavar="HEX",
                        help="a trusted Ed25519 public key, 64 hex digits (repeatable)")
    parser.add_argument("--trusted-keys", type=Path, metavar="FILE",
                        help="a file of trusted public keys, one per line")
    parser.add_argument("--key-fingerprint", action="append", default=[], metavar="HEX",
                        help="SHA-256 of a trusted raw 32-byte public key (repeatable)")


def main(argv: Sequence[str] | None = None) -> int:
    """``python standalone.py FILE --public-key HEX [--json]``: 0 ok, 1 fails, 2 refused."""
    parser = argparse.ArgumentParser(description="Verify a legal-ledger proof file offline.")
    parser.add_argument("file", type=Path)
    add_trust_arguments(parser)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    try:
        trust = trust_from(args.public_key, args.trusted_keys, args.key_fingerprint)
        if trust is None:
            raise ValueError(NO_TRUST)
        result = verify_file(args.file, trust)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result.as_dict(), indent=2, sort_keys=True))
    else:
        print("\n".join(summary(result)))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
