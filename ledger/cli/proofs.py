"""Verbs for checkpoints and proofs, registered into the ``ledger`` command line.

``ledger checkpoint [--out FILE] [--json]``             sign the verified head
``ledger checkpoint cosign FILE --key KEY.pem [--out]``  add an auditor's signature
``ledger checkpoint keygen --out KEY.pem``               a new Ed25519 key (auditors)
``ledger prove --positions 3,7,9 --checkpoint FILE``     inclusion bundle
``ledger prove --client C --checkpoint FILE``            … of one client's events
``ledger prove-consistency OLD.json NEW.json``           consistency proof
``ledger verify-bundle FILE [--public-key HEX]``         offline check, no database

Exit codes as elsewhere: 0 success, 1 a proof or signature does not verify,
2 a refused or failed command. (``verify --checkpoint`` lives in ``ledger.cli``.)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from uuid import UUID

from ledger.cli.output import emit, open_store
from ledger.cli.verbs import Verbs
from ledger.errors import LedgerError
from ledger.progress import ProgressLine
from ledger.proof import standalone
from ledger.proof.audit import trusted_key
from ledger.proof.bundle import prove_consistency, prove_inclusion
from ledger.proof.checkpoint import (
    cosign,
    create_checkpoint,
    read_document,
    write_document,
)
from ledger.proof.keys import (
    firm_key,
    firm_key_path,
    generate_key_file,
    load_key_file,
    parse_public_key_hex,
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


def cmd_checkpoint(args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(args, settings)
    key = firm_key(settings, store.firm)
    assert key is not None
    head = store.head()
    bar = ProgressLine("verifying before signing", head.position)
    document = create_checkpoint(store, key, progress=bar)
    bar.close()
    out = Path(args.out or f"checkpoint-{document['position']}.json")
    write_document(out, document)
    emit(args, {"file": str(out), "checkpoint": document}, [
        f"checkpoint at position {document['position']} written to {out}",
        f"head hash    {document['head_hash']}",
        f"merkle root  {document['merkle_root']}",
        f"public key   {document['public_key']} ({firm_key_path(settings, store.firm)})",
    ])
    return 0


def cmd_cosign(args: argparse.Namespace, settings: Settings) -> int:
    source = Path(args.file)
    key = load_key_file(Path(args.key))
    document = cosign(read_document(source), key)
    out = Path(args.out) if args.out else source
    write_document(out, document, overwrite=args.out is None)
    emit(args, {"file": str(out), "checkpoint": document}, [
        f"cosigned by {public_key_bytes(key).hex()}; "
        f"{len(document['cosignatures'])} cosignature(s) in {out}"])
    return 0


def cmd_keygen(args: argparse.Namespace, settings: Settings) -> int:
    key = generate_key_file(Path(args.out))
    public = public_key_bytes(key).hex()
    emit(args, {"file": args.out, "public_key": public},
         [f"Ed25519 key written to {args.out} (mode 0600)", f"public key {public}"])
    return 0


def _pinned(args: argparse.Namespace, settings: Settings) -> bytes | None:
    return trusted_key(settings, args.firm or settings.firm, args.public_key)[0]


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
    pinned = parse_public_key_hex(args.public_key) if args.public_key else None
    try:
        result = standalone.verify_file(Path(args.file), pinned)
    except OSError as exc:
        raise LedgerError(f"cannot read {args.file}: {exc.strerror}", field="file") from None
    except ValueError:
        raise LedgerError(f"{args.file} is not a JSON document", field="file") from None
    if args.json:
        print(json.dumps(result.as_dict(), indent=2, sort_keys=True))
    else:
        print("\n".join(standalone.summary(result)))
    return 0 if result.ok else 1


def register(verbs: Verbs) -> None:
    """Add the checkpoint and proof verbs to the ``ledger`` parser."""
    json_help = "print JSON"
    pin_help = ("the firm's Ed25519 public key (64 hex digits); default: the firm's key "
                "file when present")

    cp = verbs.verb("checkpoint", "sign the chain's verified head and "
                               "Merkle root with the firm's Ed25519 key")
    cp.add_argument("--out", metavar="FILE", help="where to write it "
                    "(default checkpoint-<position>.json)")
    cp.add_argument("--json", action="store_true", help=json_help)
    cp.set_defaults(handler=cmd_checkpoint)
    actions = cp.add_subparsers(dest="checkpoint_action", metavar="ACTION")
    co = actions.add_parser("cosign", help="add an auditor's cosignature to a checkpoint")
    co.add_argument("file", metavar="FILE")
    co.add_argument("--key", required=True, metavar="KEY.pem", help="the auditor's key")
    co.add_argument("--out", metavar="FILE", help="write here instead of updating FILE")
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
    pv.add_argument("--public-key", metavar="HEX", help=pin_help)
    pv.add_argument("--json", action="store_true", help=json_help)
    pv.set_defaults(handler=cmd_prove)

    pc = verbs.verb("prove-consistency", "prove a newer checkpoint's log extends an older one's")
    pc.add_argument("old", metavar="OLD.json")
    pc.add_argument("new", metavar="NEW.json")
    pc.add_argument("--out", metavar="FILE", help="default consistency-<old>-<new>.json")
    pc.add_argument("--public-key", metavar="HEX", help=pin_help)
    pc.add_argument("--json", action="store_true", help=json_help)
    pc.set_defaults(handler=cmd_prove_consistency)

    vb = verbs.verb("verify-bundle", "check a checkpoint, inclusion bundle "
                               "or consistency proof offline (no database)")
    vb.add_argument("file", metavar="FILE")
    vb.add_argument("--public-key", metavar="HEX", help="pin the firm's Ed25519 public key")
    vb.add_argument("--json", action="store_true", help=json_help)
    vb.set_defaults(handler=cmd_verify_bundle)
