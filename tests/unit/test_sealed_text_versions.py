"""Events whose free text is now sealed: v1 payloads (reason in clear, no client id)
still decode, through the library's upcasting; the fingerprint forms parse."""

from __future__ import annotations

from uuid import UUID, uuid4

import msgspec
import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from ledger.codec import MsgspecTranscoder, TypedMapper
from ledger.crypto import fingerprint as fp
from ledger.crypto.errors import UnknownFingerprintError
from ledger.domain.invoice import CreditNoteIssued, InvoiceVoided, WrittenDown, WrittenOff
from ledger.domain.matter import EntryVoided


@pytest.mark.parametrize(("cls", "fields"), [
    (WrittenOff, {"amount_minor": 100, "approved_by": "partner"}),
    (CreditNoteIssued, {"amount_minor": 100, "credit_note_id": str(uuid4())}),
    (WrittenDown, {"amount_minor": 100, "line_no": 1}),
    (InvoiceVoided, {}),
    (EntryVoided, {"entry_id": str(uuid4())}),
])
def test_v1_events_upcast_with_their_reason_in_clear(cls: type, fields: dict[str, object]
                                                      ) -> None:
    state = {"actor": "a", "effective_on": "2024-01-02", "reason": "old clear reason",
             "timestamp": "2024-01-02T10:00:00+00:00", **fields}
    stored = StoredEvent(originator_id=uuid4(), originator_version=2, topic=get_topic(cls),
                         state=msgspec.json.encode(state))
    event = TypedMapper(transcoder=MsgspecTranscoder()).to_domain_event(stored)
    assert isinstance(event, cls)
    assert event.reason == "old clear reason"  # type: ignore[attr-defined]
    assert event.client_id is None  # type: ignore[attr-defined]
    assert cls.class_version == 2 and cls.SEALED_TEXT == ("reason",)  # type: ignore[attr-defined]


def test_fingerprint_forms_round_trip_and_old_ones_are_unkeyed() -> None:
    client = UUID(int=7)
    keyed = fp.StoredFingerprint("client", "ab" * 32, client_id=client, key_version=3)
    assert fp.parse(str(keyed)) == keyed and fp.is_keyed(str(keyed))
    firm = fp.StoredFingerprint("firm", "cd" * 32, kek_id="0123456789abcdef")
    assert fp.parse(str(firm)) == firm
    old = fp.sha256(b"onboard_client\n{}")
    assert fp.parse(old).scheme == "sha256" and not fp.is_keyed(old)
    with pytest.raises(UnknownFingerprintError):
        fp.parse("md5:whatever")
    # Domain separation: the client and firm secrets of the same bytes differ.
    key = bytes(32)
    assert fp.derive(key, fp.client_info(client, 1)) != fp.derive(key, fp.firm_info(client))
