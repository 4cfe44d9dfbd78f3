"""Subscribers: every billing event a downstream service is entitled to, in order.

* ``feed``: the one feed-event JSON shape (pull, stream, webhooks, relay),
  scoping and redaction (``scope``), chain checks a subscriber can run;
* ``consumer``: in-process consumers with a durable, named position (the
  eventsourcing library's tracking): exactly once per event;
* ``live``: the library's LISTEN/NOTIFY subscription with the chain columns;
* ``webhooks``/``signing``/``delivery``/``poster``: signed, ordered, retried
  webhooks; ``addresses``: which URLs they may reach;
* ``relay``: every event to NATS JetStream, de-duplicated by position, only
  into a stream this ledger wrote;
* ``client``/``continuity``: a subscriber's own checks (ledger id, next
  position, chain link) before it applies an event;
* ``http``: the ``/v1/events`` and ``/v1/webhooks`` routes; ``cli``: the verbs.

See ``README.md`` in this folder for the formats and the signature scheme.
"""
