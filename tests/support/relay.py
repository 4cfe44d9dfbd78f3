"""Relay test helpers: what a JetStream stream holds."""

from __future__ import annotations

import asyncio

import nats

from ledger.subscribers.relay import POSITION_HEADER, StreamNames


def stream_contents(url: str, names: StreamNames) -> list[tuple[int, str, bytes]]:
    """(position header, msg id, body) of every message, in stream order."""

    async def read() -> list[tuple[int, str, bytes]]:
        nc = await nats.connect(url)
        try:
            js = nc.jetstream()
            info = await js.stream_info(names.stream)
            out: list[tuple[int, str, bytes]] = []
            if int(info.state.messages) == 0:
                return out
            for seq in range(int(info.state.first_seq), int(info.state.last_seq) + 1):
                msg = await js.get_msg(names.stream, seq)
                headers = msg.headers or {}
                out.append((int(headers[POSITION_HEADER]), headers["Nats-Msg-Id"],
                            msg.data or b""))
            return out
        finally:
            await nc.close()

    return asyncio.run(read())
