"""DDL of a firm's ledger: the chained event table, its guards, and the app role.

Why the database guards itself, not only the code:

* statement-level triggers refuse ``UPDATE``, ``DELETE`` and ``TRUNCATE`` on
  the event table and on ``chain_meta`` for every role, the owner included;
* a row inserted without a ``hash`` (raw SQL that bypasses the library) is
  chained by the database itself, with the same byte layout as
  ``ledger.store.chain``, under the same EXCLUSIVE table lock the library takes,
  so it cannot fork the chain; a row inserted *with* a made-up hash is accepted
  by the database but flagged by ``verify`` at its position;
* the per-firm role ``<schema>_app`` holds only ``SELECT`` and ``INSERT`` on the
  event table.
"""

from __future__ import annotations

import re

from psycopg.sql import SQL, Composed, Identifier, Literal

from ledger.errors import InvalidFirmNameError

FIRM_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
APPEND_ONLY_SQLSTATE = "LA001"


def schema_for_firm(firm: str) -> str:
    """The PostgreSQL schema that holds a firm's ledger (``firm_<name>``)."""
    if not FIRM_NAME.match(firm):
        raise InvalidFirmNameError(
            "a firm name is 1-40 characters of lower-case letters, digits and '_', "
            "starting with a letter",
            field="firm",
        )
    return f"firm_{firm}"


def app_role_for_schema(schema: str) -> str:
    """The firm's application role: SELECT and INSERT only on the event table."""
    return f"{schema}_app"


def chain_meta_statements(schema: str) -> list[Composed]:
    s = Identifier(schema)
    return [
        SQL(
            "CREATE TABLE IF NOT EXISTS {s}.chain_meta ("
            " table_name text PRIMARY KEY,"
            " ledger_id uuid NOT NULL UNIQUE,"
            " created_at timestamptz NOT NULL DEFAULT clock_timestamp())"
        ).format(s=s),
        SQL(
            "CREATE OR REPLACE FUNCTION {s}.refuse_change() RETURNS trigger "
            "LANGUAGE plpgsql AS $fn$ BEGIN "
            "RAISE EXCEPTION '%.% is append-only: % refused', "
            "TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP USING ERRCODE = {code}; "
            "END $fn$"
        ).format(s=s, code=Literal(APPEND_ONLY_SQLSTATE)),
        *append_only_statements(schema, "chain_meta"),
    ]


def append_only_statements(schema: str, table: str) -> list[Composed]:
    s, t = Identifier(schema), Identifier(table)
    return [
        SQL(
            "CREATE OR REPLACE TRIGGER {trigger} BEFORE UPDATE OR DELETE ON {s}.{t} "
            "FOR EACH STATEMENT EXECUTE FUNCTION {s}.refuse_change()"
        ).format(trigger=Identifier(f"{table}_no_update_delete"), s=s, t=t),
        SQL(
            "CREATE OR REPLACE TRIGGER {trigger} BEFORE TRUNCATE ON {s}.{t} "
            "FOR EACH STATEMENT EXECUTE FUNCTION {s}.refuse_change()"
        ).format(trigger=Identifier(f"{table}_no_truncate"), s=s, t=t),
    ]


def events_table_statement(schema: str, table: str) -> Composed:
    return SQL(
        "CREATE TABLE IF NOT EXISTS {s}.{t} ("
        " originator_id uuid NOT NULL,"
        " originator_version bigint NOT NULL,"
        " topic text NOT NULL,"
        " state bytea NOT NULL,"
        " notification_id bigint NOT NULL,"
        " recorded_at timestamptz NOT NULL,"
        " prev_hash bytea NOT NULL CHECK (octet_length(prev_hash) = 32),"
        " hash bytea NOT NULL CHECK (octet_length(hash) = 32),"
        " PRIMARY KEY (originator_id, originator_version))"
    ).format(s=Identifier(schema), t=Identifier(table))


def events_index_statements(schema: str, table: str) -> list[Composed]:
    s, t = Identifier(schema), Identifier(table)
    return [
        SQL("CREATE INDEX IF NOT EXISTS {i} ON {s}.{t} (recorded_at)").format(
            i=Identifier(f"{table}_recorded_at_idx"), s=s, t=t
        ),
    ]


def register_chain_statement(schema: str, table: str) -> Composed:
    """Give the table its ledger id, once: the genesis hash binds the chain to it."""
    return SQL(
        "INSERT INTO {s}.chain_meta (table_name, ledger_id) "
        "VALUES ({name}, gen_random_uuid()) ON CONFLICT (table_name) DO NOTHING"
    ).format(s=Identifier(schema), name=Literal(table))


def raw_insert_chaining_statements(schema: str, table: str) -> list[Composed]:
    """Chain, in the database, any row inserted without a hash (see ledger.store.chain)."""
    s, t = Identifier(schema), Identifier(table)
    function = Identifier(f"{table}_chain_raw_row")
    body = SQL(
        "CREATE OR REPLACE FUNCTION {s}.{function}() RETURNS trigger "
        "LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $fn$ "
        "DECLARE prev record; lid uuid; "
        "  tag bytea := convert_to('legal-ledger/event/v1', 'UTF8'); "
        "  gtag bytea := convert_to('legal-ledger/genesis/v1', 'UTF8'); "
        "  topic_bytes bytea; "
        "BEGIN "
        "  LOCK TABLE {s}.{t} IN EXCLUSIVE MODE; "
        "  SELECT ledger_id INTO STRICT lid FROM {s}.chain_meta WHERE table_name = {name}; "
        "  SELECT notification_id, hash, recorded_at INTO prev FROM {s}.{t} "
        "    ORDER BY notification_id DESC LIMIT 1; "
        "  IF prev.notification_id IS NULL THEN "
        "    NEW.notification_id := 1; "
        "    NEW.prev_hash := sha256(int4send(octet_length(gtag)) || gtag || uuid_send(lid)); "
        "    NEW.recorded_at := clock_timestamp(); "
        "  ELSE "
        "    NEW.notification_id := prev.notification_id + 1; "
        "    NEW.prev_hash := prev.hash; "
        "    NEW.recorded_at := greatest(clock_timestamp(), prev.recorded_at); "
        "  END IF; "
        "  topic_bytes := convert_to(NEW.topic, 'UTF8'); "
        "  NEW.hash := sha256(int4send(octet_length(tag)) || tag || uuid_send(lid) "
        "    || int8send(NEW.notification_id) || NEW.prev_hash "
        "    || uuid_send(NEW.originator_id) || int8send(NEW.originator_version) "
        "    || int4send(octet_length(topic_bytes)) || topic_bytes "
        "    || int4send(octet_length(NEW.state)) || NEW.state "
        "    || int8send((extract(epoch FROM NEW.recorded_at) * 1000000)::bigint)); "
        "  PERFORM pg_notify({channel}, ''); "
        "  RETURN NEW; "
        "END $fn$"
    ).format(s=s, t=t, function=function, name=Literal(table),
             channel=Literal(table.replace(".", "_")))
    trigger = SQL(
        "CREATE OR REPLACE TRIGGER {trigger} BEFORE INSERT ON {s}.{t} "
        "FOR EACH ROW WHEN (NEW.hash IS NULL) EXECUTE FUNCTION {s}.{function}()"
    ).format(trigger=Identifier(f"{table}_chain_raw_insert"), s=s, t=t, function=function)
    return [body, trigger]


def append_function_name(table: str) -> str:
    return f"{table}_append"


def append_function_statement(schema: str, table: str) -> Composed:
    """Append a batch of events as one link of the chain, inside the database.

    One call per transaction: it takes the EXCLUSIVE lock, reads the head once,
    stamps the batch with one ``recorded_at`` (the database's clock, never less
    than the head's), hashes each row with the layout of ``ledger.store.chain``
    and inserts the rows. Doing it server-side keeps the lock for one statement,
    never across a round trip to the client. SECURITY DEFINER because taking an
    EXCLUSIVE lock needs more than the app role's INSERT right.
    """
    s, t = Identifier(schema), Identifier(table)
    return SQL(
        "CREATE OR REPLACE FUNCTION {s}.{function}("
        " p_ids uuid[], p_versions bigint[], p_topics text[], p_states bytea[])"
        " RETURNS SETOF bigint LANGUAGE plpgsql SECURITY DEFINER"
        " SET search_path = pg_catalog AS $fn$ "
        "DECLARE head record; lid uuid; prefix bytea; prev bytea; pos bigint;"
        "  ts timestamptz; ts_bytes bytea; tb bytea; r record;"
        "  positions bigint[] := '{{}}'; prevs bytea[] := '{{}}'; hashes bytea[] := '{{}}';"
        "  tag bytea := convert_to('legal-ledger/event/v1', 'UTF8');"
        "  gtag bytea := convert_to('legal-ledger/genesis/v1', 'UTF8'); "
        "BEGIN "
        "  LOCK TABLE {s}.{t} IN EXCLUSIVE MODE; "
        "  SELECT ledger_id INTO STRICT lid FROM {s}.chain_meta WHERE table_name = {name}; "
        "  SELECT notification_id, hash, recorded_at INTO head FROM {s}.{t} "
        "    ORDER BY notification_id DESC LIMIT 1; "
        "  ts := clock_timestamp(); "
        "  IF head.notification_id IS NULL THEN "
        "    pos := 0; prev := sha256(int4send(octet_length(gtag)) || gtag || uuid_send(lid)); "
        "  ELSE "
        "    pos := head.notification_id; prev := head.hash; "
        "    ts := greatest(ts, head.recorded_at); "
        "  END IF; "
        "  ts_bytes := int8send((extract(epoch FROM ts) * 1000000)::bigint); "
        "  prefix := int4send(octet_length(tag)) || tag || uuid_send(lid); "
        "  FOR r IN SELECT * FROM unnest(p_ids, p_versions, p_topics, p_states)"
        "    AS u(oid, ver, topic, state) LOOP "
        "    pos := pos + 1; tb := convert_to(r.topic, 'UTF8'); "
        "    positions := positions || pos; prevs := prevs || prev; "
        "    prev := sha256(prefix || int8send(pos) || prev || uuid_send(r.oid)"
        "      || int8send(r.ver) || int4send(octet_length(tb)) || tb"
        "      || int4send(octet_length(r.state)) || r.state || ts_bytes); "
        "    hashes := hashes || prev; "
        "  END LOOP; "
        "  RETURN QUERY INSERT INTO {s}.{t} (originator_id, originator_version, topic, state,"
        "    notification_id, prev_hash, hash, recorded_at)"
        "    SELECT u.oid, u.ver, u.topic, u.state, u.pos, u.prev, u.h, ts"
        "    FROM unnest(p_ids, p_versions, p_topics, p_states, positions, prevs, hashes)"
        "    AS u(oid, ver, topic, state, pos, prev, h)"
        "    RETURNING notification_id; "
        "END $fn$"
    ).format(s=s, t=t, name=Literal(table), function=Identifier(append_function_name(table)))


def app_role_statements(schema: str, tables: list[str]) -> list[Composed]:
    """Create the firm's app role (if missing) and give it only what it needs."""
    s = Identifier(schema)
    role = Identifier(app_role_for_schema(schema))
    statements = [
        SQL(
            "DO $do$ BEGIN "
            "IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {name}) THEN "
            "CREATE ROLE {role} NOLOGIN; END IF; "
            "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; "
            "END $do$"
        ).format(name=Literal(app_role_for_schema(schema)), role=role),
        SQL("GRANT USAGE, CREATE ON SCHEMA {s} TO {role}").format(s=s, role=role),
        SQL("REVOKE ALL ON {s}.chain_meta FROM {role}").format(s=s, role=role),
        SQL("GRANT SELECT ON {s}.chain_meta TO {role}").format(s=s, role=role),
    ]
    for table in tables:
        t = Identifier(table)
        statements.append(SQL("REVOKE ALL ON {s}.{t} FROM {role}").format(s=s, t=t, role=role))
        statements.append(
            SQL("GRANT SELECT, INSERT ON {s}.{t} TO {role}").format(s=s, t=t, role=role)
        )
    return statements
