"""Event payloads as deterministic msgspec JSON, decoded back to their real types.

* ``MsgspecTranscoder`` (``TRANSCODER_TOPIC``) turns an event's state into
  UTF-8 JSON with every object's keys sorted, so the same event always gives
  the same bytes (the bytes the hash chain covers). UUIDs, dates and datetimes
  are encoded as their canonical strings (RFC 4122, ISO 8601/RFC 3339);
  integers stay integers. Floats are refused: money is never a float.
* ``TypedMapper`` (``MAPPER_TOPIC``) is the library's mapper; after the
  library-style upcasting of old ``class_version`` payloads it converts the
  plain decoded state into the event class with msgspec, so fields come back
  as ``UUID``, ``date``, ``datetime``, ``int``, tuples of structs…, as declared.
  When its cipher is ``ledger.crypto.sealing:FieldSealer`` (``CIPHER_TOPIC``)
  it seals each event's ``confidential`` values per client before encoding
  and opens them after decoding (``[erased]`` once the client's key is
  destroyed); amounts, dates and ids stay in clear. Without it, payloads are
  stored as they are (as in unit tests and the encryption-off benchmark).
"""

from __future__ import annotations

import dataclasses
from typing import Any, cast

import msgspec
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, MapperDeserialisationError, StoredEvent, Transcoder
from eventsourcing.utils import get_topic, resolve_topic

import ledger.domain.moved  # noqa: F401 - moved classes keep their stored topics

TRANSCODER_TOPIC = "ledger.codec:MsgspecTranscoder"
MAPPER_TOPIC = "ledger.codec:TypedMapper"


def _refuse(obj: Any) -> Any:
    raise TypeError(f"cannot encode {type(obj).__name__} in a ledger event")


class MsgspecTranscoder(Transcoder):
    """Deterministic JSON bytes (sorted keys) for an event's state, and back."""

    def __init__(self) -> None:
        self._encoder = msgspec.json.Encoder(order="sorted", enc_hook=_refuse)
        self._decoder = msgspec.json.Decoder()

    def encode(self, obj: Any) -> bytes:
        _refuse_floats(obj)
        return self._encoder.encode(obj)

    def decode(self, data: bytes) -> Any:
        return self._decoder.decode(data)


def _refuse_floats(obj: Any) -> None:
    if isinstance(obj, float):
        raise TypeError("money and time are integers: a float cannot be recorded")
    if isinstance(obj, dict):
        for value in obj.values():
            _refuse_floats(value)
    elif isinstance(obj, (list, tuple)):
        for value in obj:
            _refuse_floats(value)
    elif isinstance(obj, msgspec.Struct):
        for field in obj.__struct_fields__:
            _refuse_floats(getattr(obj, field))


def state_bytes(event: object) -> bytes:
    """The bytes an event's state is stored as (without id and version)."""
    state = {k: v for k, v in vars(event).items()
             if k not in ("originator_id", "originator_version")}
    class_version = getattr(type(event), "class_version", 1)
    if class_version > 1:
        state["class_version"] = class_version
    return MsgspecTranscoder().encode(state)


class TypedMapper(Mapper[Any]):
    """The library's mapper, decoding each event's state into its declared types."""

    def _sealing(self) -> Any:
        """The field sealer's engine when the cipher is one (``ledger.crypto.sealing``)."""
        return getattr(self.cipher, "engine", None)

    def to_stored_event(self, domain_event: DomainEventProtocol[Any]) -> StoredEvent:
        engine = self._sealing()
        if engine is None:
            return super().to_stored_event(domain_event)
        topic = get_topic(type(domain_event))
        state = dict(vars(domain_event))
        originator_id = state.pop("originator_id")
        originator_version = state.pop("originator_version")
        class_version = getattr(type(domain_event), "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        if "confidential" in state or hasattr(type(domain_event), "SEALED_TEXT"):
            state = engine.seal_state(state, originator_id, originator_version, topic)
        stored_state = self.transcoder.encode(state)
        if self.compressor:
            stored_state = self.compressor.compress(stored_state)
        return StoredEvent(originator_id=originator_id, originator_version=originator_version,
                           topic=topic, state=stored_state)

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[Any]:
        cls = resolve_topic(stored_event.topic)
        if not dataclasses.is_dataclass(cls):
            return super().to_domain_event(stored_event)
        state = stored_event.state
        engine = self._sealing()
        if self.cipher and engine is None:
            state = self.cipher.decrypt(state)
        if self.compressor:
            state = self.compressor.decompress(state)
        try:
            event_state: dict[str, Any] = self.transcoder.decode(state)
            from_version = event_state.pop("class_version", 1)
            class_version = getattr(cls, "class_version", 1)
            while from_version < class_version:
                getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(event_state)
                from_version += 1
            if engine is not None:
                engine.open_state(event_state, stored_event.originator_id,
                                  stored_event.originator_version, stored_event.topic)
            event_state["originator_id"] = stored_event.originator_id
            event_state["originator_version"] = stored_event.originator_version
            return cast(DomainEventProtocol[Any], msgspec.convert(event_state, type=cls))
        except (msgspec.ValidationError, ValueError, TypeError, AttributeError) as exc:
            msg = (f"cannot decode event {stored_event.topic} of "
                   f"{stored_event.originator_id} v{stored_event.originator_version}: {exc}")
            raise MapperDeserialisationError(msg) from exc
