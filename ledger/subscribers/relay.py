"""The scale-out relay: every event of a firm's chain to NATS JetStream, once, in order.

Conventions: stream ``LEDGER_<FIRM>`` (firm name upper case), subject
``ledger.<firm>.events``, headers ``Nats-Msg-Id: <ledger_id>:<position>`` and
``Ledger-Position: <position>``; the body is the feed event (see ``feed``).

Why exactly once, in order, across crashes:

* on start the relay reads the stream's last message and continues after its
  ``Ledger-Position``, so nothing already stored is published again and
  nothing after it is skipped;
* publishes are pipelined for throughput, and each one carries
  ``Nats-Expected-Last-Sequence`` (the stream sequence the previous message
  got): if one publish of a batch is lost, every later one is refused by the
  server rather than stored after a gap; the relay then stops with an error
  and, restarted, resumes from what the stream really holds;
* ``Nats-Msg-Id`` lets JetStream drop a message published twice within its
  duplicate window (a second relay started by mistake, a retried publish).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
import nats
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import NotFoundError

from ledger.errors import LedgerError
from ledger.store.firm import FirmStore
from ledger.subscribers.feed import (
    StoredRow,
    encode,
    ledger_id_of,
    opener_for,
    read_rows,
    to_feed_event,
)
from ledger.subscribers.scope import FIRM_REDACTED, Owners, Scope

POSITION_HEADER = "Ledger-Position"
DUPLICATE_WINDOW_SECONDS = 120.0
ACK_TIMEOUT_SECONDS = 30.0
_ACK = msgspec.json.Decoder(dict[str, Any])


class RelayError(LedgerError):
    """JetStream refused or lost a publish; restart the relay to resume safely."""

    type = "relay-failed"


@dataclass(frozen=True)
class StreamNames:
    stream: str
    subject: str


def names_for(firm: str, suffix: str = "") -> StreamNames:
    """``LEDGER_<FIRM>`` and ``ledger.<firm>.events`` (``suffix`` keeps tests apart)."""
    return StreamNames(f"LEDGER_{firm.upper()}{suffix}", f"ledger.{firm}{suffix.lower()}.events")


@dataclass
class RelayStats:
    published: int = 0
    position: int = 0
    seconds: float = 0.0


class Relay:
    """Publishes the chain to JetStream in pages; sleeps on LISTEN when caught up.

    Pages (not the one-row-at-a-time subscription) because throughput is the
    point here: one query and one pipelined burst of publishes per page.
    """

    def __init__(self, store: FirmStore, nats_url: str, *, names: StreamNames | None = None,
                 scope: Scope = FIRM_REDACTED, batch: int = 1000) -> None:
        self.store, self.nats_url, self.scope, self.batch = store, nats_url, scope, batch
        self.names = names or names_for(store.firm)
        self._opener = opener_for(store) if scope.confidential else None

    async def ensure_stream(self, js: JetStreamContext) -> None:
        try:
            await js.stream_info(self.names.stream)
        except NotFoundError:
            await js.add_stream(StreamConfig(
                name=self.names.stream, subjects=[self.names.subject],
                storage=StorageType.FILE, duplicate_window=DUPLICATE_WINDOW_SECONDS))

    async def resume_point(self, js: JetStreamContext) -> tuple[int, int]:
        """(last position in the stream, its stream sequence); (0, last_seq) when empty."""
        info = await js.stream_info(self.names.stream)
        last_seq = int(info.state.last_seq)
        if info.state.messages == 0:
            return 0, last_seq
        msg = await js.get_last_msg(self.names.stream, self.names.subject)
        headers = msg.headers or {}
        return int(headers[POSITION_HEADER]), int(msg.seq or last_seq)

    async def run(self, *, timeout: float | None = None, until: int | None = None,
                  stop: asyncio.Event | None = None, poll: float = 0.2) -> RelayStats:
        """Publish from the stream's last position until ``until``/``timeout``/``stop``."""
        stats, started = RelayStats(), time.monotonic()
        deadline = None if timeout is None else started + timeout
        nc = await nats.connect(self.nats_url, connect_timeout=5, max_reconnect_attempts=3)
        try:
            js = nc.jetstream()
            await self.ensure_stream(js)
            position, seq = await self.resume_point(js)
            stats.position = position
            owners = Owners(self.store.schema, self.store.events_table)
            with self.store.location.connect() as conn, \
                    self.store.location.listen(self.store.events_table) as listen:
                ledger_id = ledger_id_of(conn, self.store)
                while not (stop is not None and stop.is_set()):
                    if until is not None and stats.position >= until:
                        break
                    if deadline is not None and time.monotonic() >= deadline:
                        break
                    rows = read_rows(conn, self.store, stats.position, self.batch)
                    if not rows:  # caught up: sleep until the recorder's NOTIFY
                        await asyncio.to_thread(_wait_notify, listen, poll)
                        continue
                    owners.resolve(conn, (r.originator_id for r in rows))
                    seq = await self._publish(nc, ledger_id, owners, rows, seq)
                    stats.published += len(rows)
                    stats.position = rows[-1].position
        finally:
            await nc.close()
        stats.seconds = time.monotonic() - started
        return stats

    async def _publish(self, nc: NATS, ledger_id: str, owners: Owners,
                       rows: Sequence[StoredRow], seq: int) -> int:
        """Publish a page pipelined (one flush), then check every acknowledgement.

        Plain publishes with a reply inbox, as JetStream clients do underneath,
        because awaiting the client's per-message publish hands control to its
        flusher after every message, one socket write each.
        """
        inbox = nc.new_inbox()
        acks: dict[int, bytes] = {}
        complete = asyncio.Event()

        async def on_ack(msg: Msg) -> None:
            acks[int(msg.subject.rpartition(".")[2])] = msg.data
            if len(acks) == len(rows):
                complete.set()

        sub = await nc.subscribe(inbox + ".*", cb=on_ack)
        try:
            for i, row in enumerate(rows):
                body = encode(to_feed_event(row, owners, self.scope, opener=self._opener))
                await nc.publish(self.names.subject, body, reply=f"{inbox}.{row.position}",
                                 headers={"Nats-Msg-Id": f"{ledger_id}:{row.position}",
                                          POSITION_HEADER: str(row.position),
                                          "Nats-Expected-Last-Sequence": str(seq + i)})
            await nc.flush(timeout=int(ACK_TIMEOUT_SECONDS))
            await asyncio.wait_for(complete.wait(), timeout=ACK_TIMEOUT_SECONDS)
        except TimeoutError:
            raise RelayError("JetStream did not acknowledge a page in time; "
                             "restart to resume") from None
        finally:
            await sub.unsubscribe()
        for row in rows:
            ack = _ACK.decode(acks[row.position])
            if "error" in ack:
                raise RelayError(f"JetStream refused position {row.position}; "
                                 "restart to resume")
            if ack.get("duplicate"):
                raise RelayError(f"position {row.position} was already in the stream; "
                                 "is another relay running?")
            seq = int(ack["seq"])
        return seq


def _wait_notify(listen: threading.Event, timeout: float) -> None:
    listen.wait(timeout)
    listen.clear()


def run_relay(store: FirmStore, nats_url: str, **kwargs: Any) -> RelayStats:
    """Blocking entry point (command line, subprocesses)."""
    run_args = {k: kwargs.pop(k) for k in ("timeout", "until") if k in kwargs}
    return asyncio.run(Relay(store, nats_url, **kwargs).run(**run_args))
