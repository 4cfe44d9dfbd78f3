"""Signed checkpoints and Merkle proofs over a firm's hash chain.

Modules: ``merkle`` (the RFC 9162 tree), ``keys`` (Ed25519 key files),
``checkpoint`` (the signed head, its file and its table), ``leaves`` (reading
the chain for proofs), ``audit`` (``verify --checkpoint``), ``bundle`` (proof
files), ``standalone`` (a verifier of those files that needs no database and
imports nothing from the ledger) and ``cli`` (the verbs).

Nothing is imported here, so ``ledger.proof.standalone`` loads on its own.
"""
