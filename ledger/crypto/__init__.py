"""Confidentiality: AES-256-GCM sealing of confidential fields per client, the
key store of wrapped data keys, key-encryption keys, rotation and erasure.

Kernel code: imports nothing from ``commands`` or ``projections``.
"""

from ledger.crypto.cipher import ERASED
from ledger.crypto.sealing import (
    SEALER_TOPIC,
    Sealing,
    close_engines,
    forget_client,
    sealing,
    sealing_for_store,
)

__all__ = ["ERASED", "SEALER_TOPIC", "Sealing", "close_engines", "forget_client", "sealing",
           "sealing_for_store"]
