"""Verbs for checkpoints and proofs, registered into the ``ledger`` command line.

``ledger checkpoint [--out FILE] [--json]``             sign the verified head
``ledger checkpoint list [--json]``                      what the firm has signed
``ledger checkpoint cosign FILE --key KEY.pem [--out]``  add a witness's signature
``ledger checkpoint keygen --out KEY.pem``               a new Ed25519 key (auditors)
``ledger prove --positions 3,7,9 --checkpoint FILE``     inclusion bundle
``ledger prove --client C --checkpoint FILE``            … of one client's events
``ledger prove-consistency OLD.json NEW.json``           consistency proof
``ledger verify-bundle FILE --public-key HEX``           offline check, no database

Exit codes as elsewhere: 0 success, 1 a proof or signature does not verify or a
checkpoint would fork the signed history (``checkpoint_fork``), 2 a refused or
failed command, such as no pinned key. (``verify --checkpoint`` lives in
``ledger.cli.store``.)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any
from uuid import UUID

from ledger.cli.output import emit, open_store
from ledger.cli.verbs import Verbs
from ledger.errors import LedgerError
from ledger.progress import ProgressLine
from ledger.proof import standalone, witness
from ledger.proof.audit import checkpoint_trust
from ledger.proof.bundle import prove_consistency, prove_inclusion
from ledger.proof.checkpoint import (
    CheckpointError,
    cosign,
    create_checkpoint,
    ensure_checkpoints_table,
    read_document,
    write_document,
)
from ledger.proof.history import CheckpointForkError, list_checkpoints
from ledger.proof.keys import (
    KeyNotPinnedError,
    firm_key,
    firm_key_path,
    generate_key_file,
    given_trust,
    key_fingerprint,
    load_key_file,
    public_key_bytes,
)
from ledger.proof.selection import client_positions
from ledger.settings import Settings


def parse_positions(text: str) -> list[int]:
    """``3,7,9`` or ranges ``3-9,12`` into positions (each >= 1)."""
    positions: list[int] = []
    try:
        for part in filter(None, (p.strip() for p in text.split(","))):
            first, _, last = part.partition("-")
            positions.extend(range(int(first), int(last or first) + 1))
    except ValueError:
        raise LedgerError("--positions is a list like 3,7,9 or 3-9", field="positions") from None
    if not positions or min(positions) < 1:
        raise LedgerError("--positions needs positions >= 1", field="positions")
    return sorted(set(positions))


def refused_fork(args: argparse.Namespace, error: CheckpointForkError) -> int:
    """A fork is a finding, not a failed command: exit 1, the kind in JSON and message."""
    if getattr(args, "json", False):
        print(json.dumps(error.as_dict(), indent=2, sort_keys=True))
    else:
        print(f"error: {error.message}", file=sys.stderr)
    return 1


def cmd_checkpoint(args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(args, settings)
    key = firm_key(settings, store.firm)
    assert key is not None
    head = store.head()
    bar = ProgressLine("verifying before signing", head.position)
    try:
        document = create_checkpoint(store, key, progress=bar)
    except CheckpointForkError as exc:
        return refused_fork(args, exc)
    finally:
        bar.close()
    out = Path(args.out or f"checkpoint-{document['position']}.json")
    write_document(out, document)
    public = bytes.fromhex(document["public_key"])
    emit(args, {"file": str(out), "checkpoint": document}, [
        f"checkpoint at position {document['position']} written to {out}",
        f"head hash    {document['head_hash']}",
        f"merkle root  {document['merkle_root']}",
        f"public key   {document['public_key']} ({firm_key_path(settings, store.firm)})",
        f"fingerprint  {key_fingerprint(public)}",
    ])
    return 0


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(args, settings)
    ensure_checkpoints_table(store)
    with store.location.connect() as conn:
        listed = list_checkpoints(conn, store.schema)
    lines = []
    for number, c in enumerate(listed, start=1):
        state = "signature valid" if c["signature_valid"] else "SIGNATURE INVALID"
        lines += [f"checkpoint {number} at position {c['position']}, signed {c['signed_at']} "
                  f"({state})",
                  f"  head hash        {c['head_hash']}",
                  f"  merkle root      {c['merkle_root']}",
                  f"  key fingerprint  {c['key_fingerprint']}"]
    emit(args, {"checkpoints": listed},
         lines if listed else ["no checkpoint has been signed yet"])
    return 0


def cmd_cosign(args: argparse.Namespace, settings: Settings) -> int:
    source, key_path = Path(args.file), Path(args.key)
    key = load_key_file(key_path)
    public = public_key_bytes(key)
    trust = pin_flags(args)
    document = read_document(source)
    state_path = Path(args.state) if args.state else witness.default_state_path(key_path)
    state = witness.load_state(state_path, public)
    cosigned = cosign(document, key, trust)  # checks the firm's signature first
    last = state["ledgers"].get(document["ledger_id"])
    try:
        if last is not None:
            _check_against_last(args, settings, last, document, trust)
    except CheckpointForkError as exc:
        return refused_fork(args, exc)
    out = Path(args.out) if args.out else source
    write_document(out, cosigned, overwrite=args.out is None)
    witness.save_state(state_path, witness.remember(state, cosigned))
    emit(args, {"file": str(out), "checkpoint": cosigned, "state": str(state_path)}, [
        f"cosigned by {public.hex()}; "
        f"{len(cosigned['cosignatures'])} cosignature(s) in {out}",
        f"witness state {state_path}: last cosigned position {document['position']}"])
    return 0


def _check_against_last(args: argparse.Namespace, settings: Settings, last: dict[str, Any],
                        document: dict[str, Any], trust: standalone.Trust | None) -> None:
    """Refuse unless ``document`` extends the witness's last cosigned checkpoint."""
    m, n = last["position"], document["position"]
    if n < m:
        raise CheckpointError(f"this checkpoint ({n}) is older than the last one this witness "
                              f"cosigned ({m}); a witness only cosigns forward", field="file")
    path: list[bytes] = []
    if n > m and args.proof:
        path = witness.path_from_proof(read_document(Path(args.proof)), last, document, trust)
    elif n > m:
        args.firm = args.firm or document["firm"]
        path = witness.path_from_store(open_store(args, settings, create=False), last, document)
    witness.check_extends(last, document, path)


def cmd_keygen(args: argparse.Namespace, settings: Settings) -> int:
    key = generate_key_file(Path(args.out))
    public = public_key_bytes(key)
    emit(args, {"file": args.out, "public_key": public.hex(),
                "key_fingerprint": key_fingerprint(public)},
         [f"Ed25519 key written to {args.out} (mode 0600)", f"public key  {public.hex()}",
          f"fingerprint {key_fingerprint(public)}"])
    return 0


def pin_flags(args: argparse.Namespace) -> standalone.Trust | None:
    """The trust given with ``--public-key``, ``--trusted-keys`` and ``--key-fingerprint``."""
    return given_trust(args.public_key, args.trusted_keys, args.key_fingerprint)


def _pinned(args: argparse.Namespace, settings: Settings) -> standalone.Trust:
    return checkpoint_trust(settings, args.firm or settings.firm, pin_flags(args))[0]


def cmd_prove(args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(args, settings)
    checkpoint = read_document(Path(args.checkpoint))
    if args.client:
        positions = client_positions(store, parse_client(args.client), checkpoint["position"])
        if not positions:
            raise LedgerError("the client has no events up to the checkpoint", field="client")
    else:
        positions = parse_positions(args.positions)
    bundle = prove_inclusion(store, checkpoint, positions, pinned_key=_pinned(args, settings))
    out = Path(args.out or f"bundle-{checkpoint['position']}-{positions[0]}-{len(positions)}.json")
    write_document(out, bundle)
    sizes = [len(e["audit_path"]) for e in bundle["events"]]
    emit(args, {"file": str(out), "positions": positions, "tree_size": checkpoint["position"],
                "audit_path_lengths": sizes},
         [f"inclusion proofs for {len(positions)} event(s) in a tree of "
          f"{checkpoint['position']} written to {out} (audit paths of {max(sizes)} "
          "hashes at most)"])
    return 0


def parse_client(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise LedgerError("--client is a client id (a UUID)", field="client") from None


def cmd_prove_consistency(args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(args, settings)
    old, new = read_document(Path(args.old)), read_document(Path(args.new))
    proof = prove_consistency(store, old, new, pinned_key=_pinned(args, settings))
    m, n = proof["old"]["position"], proof["new"]["position"]
    out = Path(args.out or f"consistency-{m}-{n}.json")
    write_document(out, proof)
    emit(args, {"file": str(out), "old_position": m, "new_position": n,
                "consistency_path_length": len(proof["consistency_path"])},
         [f"consistency proof {m} -> {n} ({len(proof['consistency_path'])} hashes) "
          f"written to {out}"])
    return 0


def cmd_verify_bundle(args: argparse.Namespace, settings: Settings) -> int:
    trust = pin_flags(args)
    if trust is None:
        raise KeyNotPinnedError(standalone.NO_TRUST, field="public_key")
    try:
        result = standalone.verify_file(Path(args.file), trust)
    except OSError as exc:
        raise LedgerError(f"cannot read {args.file}: {exc.strerror}", field="file") from None
    except ValueError:
        raise LedgerError(f"{args.file} is not a JSON document", field="file") from None
    if args.json:
        print(json.dumps(result.as_dict(), indent=2, sort_keys=True))
    else:
        print("\n".join(standalone.summary(result)))
    return 0 if result.ok else 1


def add_pin_arguments(parser: argparse.ArgumentParser, default: str) -> None:
    """``--public-key``, ``--trusted-keys``, ``--key-fingerprint``: the keys to trust."""
    parser.add_argument("--public-key", action="append", metavar="HEX",
                        help="a trusted Ed25519 public key, 64 hex digits (repeatable)" + default)
    parser.add_argument("--trusted-keys", metavar="FILE",
                        help="a file of trusted public keys: one 64-hex-digit key per line, "
                        "an optional label after it, '#' comments")
    parser.add_argument("--key-fingerprint", action="append", metavar="HEX",
                        help="SHA-256 of a trusted raw 32-byte public key, 64 hex digits "
                        "(repeatable)")


def register(verbs: Verbs) -> None:
    """Add the checkpoint and proof verbs to the ``ledger`` parser."""
    json_help = "print JSON"
    firm_file = "; default: the firm's key file"

    cp = verbs.verb("checkpoint", "sign the chain's verified head and "
                               "Merkle root with the firm's Ed25519 key")
    cp.add_argument("--out", metavar="FILE", help="where to write it "
                    "(default checkpoint-<position>.json)")
    cp.add_argument("--json", action="store_true", help=json_help)
    cp.set_defaults(handler=cmd_checkpoint)
    actions = cp.add_subparsers(dest="checkpoint_action", metavar="ACTION")
    ls = actions.add_parser("list", help="every checkpoint the firm has signed")
    ls.add_argument("--json", action="store_true", help=json_help)
    ls.set_defaults(handler=cmd_list)
    co = actions.add_parser("cosign", help="add a witness's cosignature to a checkpoint that "
                            "extends the last one it cosigned")
    co.add_argument("file", metavar="FILE")
    co.add_argument("--key", required=True, metavar="KEY.pem", help="the witness's key")
    co.add_argument("--out", metavar="FILE", help="write here instead of updating FILE")
    co.add_argument("--state", metavar="FILE", help="the witness's state: the last checkpoint "
                    "it cosigned per ledger (default: KEY.witness.json next to the key)")
    co.add_argument("--proof", metavar="FILE", help="a consistency proof from the last "
                    "cosigned checkpoint to FILE (default: computed from the firm's database)")
    add_pin_arguments(co, "; default: the checkpoint's own key")
    co.add_argument("--json", action="store_true", help=json_help)
    co.set_defaults(handler=cmd_cosign)
    kg = actions.add_parser("keygen", help="write a new Ed25519 key (for auditors)")
    kg.add_argument("--out", required=True, metavar="KEY.pem")
    kg.add_argument("--json", action="store_true", help=json_help)
    kg.set_defaults(handler=cmd_keygen)

    pv = verbs.verb("prove", "inclusion proofs of chosen events against a "
                               "checkpoint, disclosing no other event")
    chosen = pv.add_mutually_exclusive_group(required=True)
    chosen.add_argument("--positions", metavar="3,7,9",
                        help="positions to prove (ranges like 3-9 allowed)")
    chosen.add_argument("--client", metavar="CLIENT", help="every event of this client "
                        "(its own, its matters', invoices' and payments')")
    pv.add_argument("--checkpoint", required=True, metavar="FILE")
    pv.add_argument("--out", metavar="BUNDLE.json")
    add_pin_arguments(pv, firm_file)
    pv.add_argument("--json", action="store_true", help=json_help)
    pv.set_defaults(handler=cmd_prove)

    pc = verbs.verb("prove-consistency", "prove a newer checkpoint's log extends an older one's")
    pc.add_argument("old", metavar="OLD.json")
    pc.add_argument("new", metavar="NEW.json")
    pc.add_argument("--out", metavar="FILE", help="default consistency-<old>-<new>.json")
    add_pin_arguments(pc, firm_file)
    pc.add_argument("--json", action="store_true", help=json_help)
    pc.set_defaults(handler=cmd_prove_consistency)

    vb = verbs.verb("verify-bundle", "check a checkpoint, inclusion bundle "
                               "or consistency proof offline (no database)")
    vb.add_argument("file", metavar="FILE")
    add_pin_arguments(vb, "; one of these is required")
    vb.add_argument("--json", action="store_true", help=json_help)
    vb.set_defaults(handler=cmd_verify_bundle)
