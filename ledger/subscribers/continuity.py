"""A subscriber's own check that what arrives continues what it already has.

Why on the subscriber's side too: the ledger proves the stream it publishes
is its own, but a subscriber pointed at the wrong server, a restored copy, or
a stream another ledger of the same firm name wrote cannot tell from any one
event. It can tell from three things it keeps: the ledger id it follows, the
last position it applied and that event's hash. The next event must carry
the same ledger id, the next position, and link (``prev_hash``) to that hash;
position 1 links to the ledger's genesis hash. Anything else is refused
before the subscriber applies it.
"""

from __future__ import annotations

from uuid import UUID

from ledger.errors import LedgerError
from ledger.store.chain import genesis_hash
from ledger.subscribers.feed import ChainBreakError


class LedgerMismatchError(LedgerError):
    """Events of another ledger than the one the subscriber follows."""

    type = "ledger-mismatch"


class Continuity:
    """The ledger id, position and hash a subscriber last applied; checks the next event.

    ``ledger_id=None`` adopts the first ledger id seen; ``last_hash=None``
    (a subscriber that did not keep it) skips the link check of the first
    event after ``position`` only.
    """

    def __init__(self, ledger_id: str | None = None, position: int = 0,
                 last_hash: str | None = None) -> None:
        self.ledger_id, self.position, self.last_hash = ledger_id, position, last_hash

    def same_ledger(self, ledger_id: str) -> None:
        """Refuse events of any ledger but the one followed (adopt the first one seen)."""
        if self.ledger_id is None:
            self.ledger_id = ledger_id
        elif ledger_id != self.ledger_id:
            raise LedgerMismatchError(
                f"events of ledger {ledger_id or '(none)'} arrived, but this subscriber "
                f"follows ledger {self.ledger_id} (up to position {self.position}): another "
                "ledger, or a copy restored under the same id; nothing was applied",
                field="ledger_id")

    def accept(self, position: int, prev_hash: str, digest: str) -> None:
        """Check the next event continues the chain, then remember it."""
        if position != self.position + 1:
            raise ChainBreakError(f"position {position} arrived after {self.position}: "
                                  "events were lost or reordered", field="position")
        expected = self.last_hash
        if position == 1 and self.ledger_id:
            expected = genesis_hash_hex(self.ledger_id)
        if expected is not None and prev_hash != expected:
            raise ChainBreakError(f"position {position} does not link to position "
                                  f"{self.position} as this subscriber received it",
                                  field="prev_hash")
        self.position, self.last_hash = position, digest

    def beyond_head(self, head: int) -> None:
        """Refuse a source whose head is behind what this subscriber already applied."""
        if head < self.position:
            raise LedgerMismatchError(
                f"ledger {self.ledger_id or '(unknown)'} reports its head at {head}, but this "
                f"subscriber already applied position {self.position}: a restored or "
                "re-created ledger; nothing was applied", field="head")


def genesis_hash_hex(ledger_id: str) -> str:
    return genesis_hash(UUID(ledger_id)).hex()
