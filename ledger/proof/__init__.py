"""Signed checkpoints and Merkle proofs over a firm's hash chain.

Modules: ``merkle`` (the RFC 9162 tree), ``keys`` (Ed25519 key files),
``checkpoint`` (the signed head, its file and its table), ``history`` (what
was signed, and the refusal to sign a fork of it), ``witness`` (a cosigner's
memory of what it cosigned), ``leaves`` (reading the chain for proofs),
``audit`` (``verify --checkpoint``), ``bundle`` (proof files) and
``standalone`` (a verifier of those files that needs no database and imports
nothing from the ledger; it also defines which keys are trusted). The verbs
are in ``ledger.cli.proofs``.

Nothing is imported here, so ``ledger.proof.standalone`` loads on its own.
"""
