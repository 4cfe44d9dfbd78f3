"""The scale-out relay: every event of a firm's chain to NATS JetStream, once, in order.

Conventions: stream ``LEDGER_<FIRM>`` (firm name upper case), subject
``ledger.<firm>.events`` (or, with an explicit stream name ``NAME``, stream
``NAME`` and subject ``ledger.<firm>.<NAME>.events``), headers
``Nats-Msg-Id: <ledger_id>:<position>``, ``Ledger-Id: <ledger_id>`` and
``Ledger-Position: <position>``; the body is the feed event (see ``feed``).

Why exactly once, in order, across crashes:

* on start the relay reads the stream's last message and continues after its
  ``Ledger-Position``, so nothing already stored is published again and
  nothing after it is skipped;
* it first proves that message is this ledger's: the same ledger id, and at
  that position this ledger holds the very hash the message carries. A stream
  of another ledger of the same firm name (staging beside production on one
  cluster, a re-created database) or of this ledger before a restore that
  since diverged is refused (``StreamMismatchError``), never continued: its
  subscribers would otherwise take one ledger's events for the other's;
* publishes are pipelined for throughput, and each one carries
  ``Nats-Expected-Last-Sequence`` (the stream sequence the previous message
  got): if one publish of a batch is lost, every later one is refused by the
  server rather than stored after a gap; the relay then stops with an error
  and, restarted, resumes from what the stream really holds. (Not
  ``Nats-Expected-Last-Msg-Id``: the server keeps the last message id only in
  memory and its duplicate window, so after a server restart an idle stream
  would refuse every publish for good.)
* ``Nats-Msg-Id`` lets JetStream drop a message published twice within its
  duplicate window (a second relay started by mistake, a retried publish).
"""

from __future__ import annotations

import asyncio
import re
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
from psycopg import Connection
from psycopg.sql import SQL, Identifier

from ledger.errors import LedgerError
from ledger.store.firm import FirmStore
from ledger.subscribers.feed import (
    StoredRow,
    decode,
    encode,
    ledger_id_of,
    opener_for,
    read_rows,
    to_feed_event,
)
from ledger.subscribers.scope import FIRM_REDACTED, Owners, Scope

POSITION_HEADER = "Ledger-Position"
LEDGER_ID_HEADER = "Ledger-Id"
MSG_ID_HEADER = "Nats-Msg-Id"
EXPECTED_SEQUENCE_HEADER = "Nats-Expected-Last-Sequence"
STREAM_NAME = re.compile(r"[A-Za-z0-9_-]{1,200}")
DUPLICATE_WINDOW_SECONDS = 120.0
ACK_TIMEOUT_SECONDS = 30.0
_ACK = msgspec.json.Decoder(dict[str, Any])


class RelayError(LedgerError):
    """JetStream refused or lost a publish; restart the relay to resume safely."""

    type = "relay-failed"


class StreamMismatchError(RelayError):
    """The stream holds events this ledger did not write (another ledger, or a diverged copy)."""

    type = "relay-stream-mismatch"


@dataclass(frozen=True)
class StreamNames:
    stream: str
    subject: str


def names_for(firm: str, suffix: str = "") -> StreamNames:
    """``LEDGER_<FIRM>`` and ``ledger.<firm>.events`` (``suffix`` keeps tests apart)."""
    return StreamNames(f"LEDGER_{firm.upper()}{suffix}", f"ledger.{firm}{suffix.lower()}.events")


def names_for_stream(firm: str, stream: str) -> StreamNames:
    """An explicitly named stream ``NAME``, subject ``ledger.<firm>.<NAME>.events``.

    Its own subject, because JetStream refuses two streams whose subjects overlap.
    """
    if not STREAM_NAME.fullmatch(stream):
        raise RelayError("a stream name is 1-200 letters, digits, '_' or '-'", field="stream")
    return StreamNames(stream, f"ledger.{firm}.{stream}.events")


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
            info = await js.stream_info(self.names.stream)
        except NotFoundError:
            await js.add_stream(StreamConfig(
                name=self.names.stream, subjects=[self.names.subject],
                storage=StorageType.FILE, duplicate_window=DUPLICATE_WINDOW_SECONDS))
            return
        if self.names.subject not in (info.config.subjects or []):
            raise StreamMismatchError(
                f"stream {self.names.stream} does not take subject {self.names.subject}; "
                "it belongs to something else: choose another with --stream NAME",
                field="stream")

    async def resume_point(self, js: JetStreamContext, conn: Connection[Any],
                           ledger_id: str) -> tuple[int, int]:
        """(last position in the stream, its stream sequence); (0, last_seq) when empty.

        Refuses (``StreamMismatchError``) unless the last message is this
        ledger's: its ledger id, and this ledger's hash at its position.
        """
        info = await js.stream_info(self.names.stream)
        last_seq = int(info.state.last_seq)
        if info.state.messages == 0:
            return 0, last_seq
        msg = await js.get_last_msg(self.names.stream, self.names.subject)
        headers = msg.headers or {}
        theirs = headers.get(LEDGER_ID_HEADER) or headers.get(MSG_ID_HEADER, "").rpartition(":")[0]
        position_text = headers.get(POSITION_HEADER, "")
        if not position_text.isdigit():
            raise self._mismatch(theirs or "(none)", ledger_id, "its last message has no "
                                 f"{POSITION_HEADER} header: a ledger relay did not write it")
        position = int(position_text)
        if theirs != ledger_id:
            raise self._mismatch(theirs or "(none)", ledger_id,
                                 f"it holds another ledger's events, up to position {position}")
        stored = conn.execute(SQL("SELECT hash FROM {s}.{t} WHERE notification_id = %s").format(
            s=Identifier(self.store.schema), t=Identifier(self.store.events_table)),
            (position,)).fetchone()
        if stored is None:
            raise self._mismatch(theirs, ledger_id, f"it holds position {position}, beyond this "
                                 "ledger's head (a restored copy of this ledger?)")
        try:
            carried = decode(msg.data or b"").hash
        except msgspec.DecodeError:
            carried = ""
        if bytes(stored[0]).hex() != carried:
            raise self._mismatch(theirs, ledger_id, f"its event at position {position} is not "
                                 "this ledger's (a restored copy that since diverged?)")
        return position, int(msg.seq or last_seq)

    def _mismatch(self, theirs: str, ours: str, why: str) -> StreamMismatchError:
        return StreamMismatchError(
            f"stream {self.names.stream} was not written by this ledger: {why}; "
            f"stream ledger {theirs}, this ledger {ours}. Nothing was published. Give each "
            "ledger its own stream (ledger relay run --stream NAME), or delete the stream "
            "if it is stale", field="stream")

    async def run(self, *, timeout: float | None = None, until: int | None = None,
                  stop: asyncio.Event | None = None, poll: float = 0.2) -> RelayStats:
        """Publish from the stream's last position until ``until``/``timeout``/``stop``."""
        stats, started = RelayStats(), time.monotonic()
        deadline = None if timeout is None else started + timeout
        nc = await nats.connect(self.nats_url, connect_timeout=5, max_reconnect_attempts=3)
        try:
            js = nc.jetstream()
            await self.ensure_stream(js)
            owners = Owners(self.store.schema, self.store.events_table)
            with self.store.location.connect() as conn, \
                    self.store.location.listen(self.store.events_table) as listen:
                ledger_id = ledger_id_of(conn, self.store)
                position, seq = await self.resume_point(js, conn, ledger_id)
                stats.position = position
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
                                 headers={MSG_ID_HEADER: f"{ledger_id}:{row.position}",
                                          LEDGER_ID_HEADER: ledger_id,
                                          POSITION_HEADER: str(row.position),
                                          EXPECTED_SEQUENCE_HEADER: str(seq + i)})
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
