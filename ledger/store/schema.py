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
from uuid import UUID

from psycopg.sql import SQL, Composed, Identifier, Literal

from ledger.errors import InvalidFirmNameError
from ledger.store.chain import EVENT_TAG, genesis_hash, length_prefixed

FIRM_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
APPEND_ONLY_SQLSTATE = "LA001"
CHAIN_FUNCTIONS_MARK = "legal-ledger chain functions v2"
"""Written into the append function's body: an install without it is re-created."""


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


def chain_function_statements(schema: str, table: str, ledger_id: UUID) -> list[Composed]:
    """The functions that write the chain, specialised to this table's ledger id.

    The ledger id never changes once registered, so the hash prefix
    ``lp(tag) ‖ ledger_id`` and the genesis hash are written into the functions
    as constants: no lookup of ``chain_meta`` inside the serialised section.
    Created last: the append function, carrying CHAIN_FUNCTIONS_MARK, marks them current.
    """
    return [
        *raw_insert_chaining_statements(schema, table, ledger_id),
        append_function_statement(schema, table, ledger_id),
    ]


def bytea_literal(value: bytes) -> str:
    """A bytea constant in hex form (only hex digits: nothing to escape)."""
    return f"'\\x{value.hex()}'::bytea"


def link_hash_expression(ledger_id: UUID, *, pos: str, prev: str, oid: str, ver: str,
                         topic: str, state: str, ts: str) -> SQL:
    """One row's hash (the layout of ``ledger.store.chain``) as a SQL expression over
    the given PL/pgSQL names; the single source of both writers' hashing.

    It is inlined rather than made a SQL function because a function call per row
    costs more inside the serialised section than the hashing itself.
    """
    prefix = bytea_literal(length_prefixed(EVENT_TAG) + ledger_id.bytes)
    return SQL(
        f"sha256({prefix} || int8send({pos}) || {prev} || uuid_send({oid})"
        f" || int8send({ver}) || int4send(octet_length(convert_to({topic}, 'UTF8')))"
        f" || convert_to({topic}, 'UTF8') || int4send(octet_length({state})) || {state}"
        f" || int8send((extract(epoch FROM {ts}) * 1000000)::bigint))"
    )


def raw_insert_chaining_statements(schema: str, table: str, ledger_id: UUID) -> list[Composed]:
    """Chain, in the database, any row inserted without a hash (see ledger.store.chain)."""
    s, t = Identifier(schema), Identifier(table)
    function = Identifier(f"{table}_chain_raw_row")
    body = SQL(
        "CREATE OR REPLACE FUNCTION {s}.{function}() RETURNS trigger "
        "LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $fn$ "
        "DECLARE prev record; "
        "BEGIN "
        "  LOCK TABLE {s}.{t} IN EXCLUSIVE MODE; "
        "  SELECT notification_id, hash, recorded_at INTO prev FROM {s}.{t} "
        "    ORDER BY notification_id DESC LIMIT 1; "
        "  IF prev.notification_id IS NULL THEN "
        "    NEW.notification_id := 1; NEW.prev_hash := {genesis}; "
        "    NEW.recorded_at := clock_timestamp(); "
        "  ELSE "
        "    NEW.notification_id := prev.notification_id + 1; NEW.prev_hash := prev.hash; "
        "    NEW.recorded_at := greatest(clock_timestamp(), prev.recorded_at); "
        "  END IF; "
        "  NEW.hash := {hash}; "
        "  PERFORM pg_notify({channel}, ''); "
        "  RETURN NEW; "
        "END $fn$"
    ).format(s=s, t=t, function=function, genesis=SQL(bytea_literal(genesis_hash(ledger_id))),
             hash=link_hash_expression(
                 ledger_id, pos="NEW.notification_id", prev="NEW.prev_hash",
                 oid="NEW.originator_id", ver="NEW.originator_version", topic="NEW.topic",
                 state="NEW.state", ts="NEW.recorded_at"),
             channel=Literal(table.replace(".", "_")))
    trigger = SQL(
        "CREATE OR REPLACE TRIGGER {trigger} BEFORE INSERT ON {s}.{t} "
        "FOR EACH ROW WHEN (NEW.hash IS NULL) EXECUTE FUNCTION {s}.{function}()"
    ).format(trigger=Identifier(f"{table}_chain_raw_insert"), s=s, t=t, function=function)
    return [body, trigger]


def append_function_name(table: str) -> str:
    return f"{table}_append"


def append_function_statement(schema: str, table: str, ledger_id: UUID) -> Composed:
    """Append a batch of events as one link of the chain, inside the database.

    One call is one whole transaction when the caller runs it alone in
    autocommit mode: it takes the EXCLUSIVE lock, notifies listeners, reads the
    head once, stamps the batch with one ``recorded_at`` (the database's clock,
    never less than the head's), hashes each row and inserts the rows. The lock
    is then held for this statement and the commit only, never across a round
    trip to the client. A single event, the commonest case, takes a path with
    no arrays. SECURITY DEFINER because taking an EXCLUSIVE lock needs more
    than the app role's INSERT right.
    """
    s, t = Identifier(schema), Identifier(table)
    return SQL(
        "CREATE OR REPLACE FUNCTION {s}.{function}("
        " p_ids uuid[], p_versions bigint[], p_topics text[], p_states bytea[])"
        " RETURNS SETOF bigint LANGUAGE plpgsql SECURITY DEFINER"
        " SET search_path = pg_catalog AS $fn$ "
        "/* {mark} */ "
        "DECLARE head record; prev bytea; pos bigint; ts timestamptz;"
        "  n integer := cardinality(p_ids); positions bigint[]; prevs bytea[]; hashes bytea[]; "
        "BEGIN "
        "  LOCK TABLE {s}.{t} IN EXCLUSIVE MODE; "
        "  NOTIFY {channel}; "
        "  SELECT notification_id, hash, recorded_at INTO head FROM {s}.{t} "
        "    ORDER BY notification_id DESC LIMIT 1; "
        "  ts := clock_timestamp(); "
        "  IF head.notification_id IS NULL THEN "
        "    pos := 0; prev := {genesis}; "
        "  ELSE "
        "    pos := head.notification_id; prev := head.hash; ts := greatest(ts, head.recorded_at); "
        "  END IF; "
        "  IF n = 1 THEN "
        "    INSERT INTO {s}.{t} (originator_id, originator_version, topic, state,"
        "      notification_id, prev_hash, hash, recorded_at)"
        "    VALUES (p_ids[1], p_versions[1], p_topics[1], p_states[1], pos + 1, prev,"
        "      {first_hash}, ts); "
        "    RETURN NEXT pos + 1; "
        "    RETURN; "
        "  END IF; "
        "  positions := array_fill(NULL::bigint, ARRAY[n]); "
        "  prevs := array_fill(NULL::bytea, ARRAY[n]); "
        "  hashes := array_fill(NULL::bytea, ARRAY[n]); "
        "  FOR i IN 1..n LOOP "
        "    pos := pos + 1; positions[i] := pos; prevs[i] := prev; "
        "    prev := {hash}; "
        "    hashes[i] := prev; "
        "  END LOOP; "
        "  RETURN QUERY INSERT INTO {s}.{t} (originator_id, originator_version, topic, state,"
        "    notification_id, prev_hash, hash, recorded_at)"
        "    SELECT u.oid, u.ver, u.topic, u.state, u.pos, u.prev, u.h, ts"
        "    FROM unnest(p_ids, p_versions, p_topics, p_states, positions, prevs, hashes)"
        "    AS u(oid, ver, topic, state, pos, prev, h)"
        "    RETURNING notification_id; "
        "END $fn$"
    ).format(s=s, t=t, function=Identifier(append_function_name(table)),
             first_hash=link_hash_expression(
                 ledger_id, pos="pos + 1", prev="prev", oid="p_ids[1]", ver="p_versions[1]",
                 topic="p_topics[1]", state="p_states[1]", ts="ts"),
             hash=link_hash_expression(
                 ledger_id, pos="pos", prev="prev", oid="p_ids[i]", ver="p_versions[i]",
                 topic="p_topics[i]", state="p_states[i]", ts="ts"),
             genesis=SQL(bytea_literal(genesis_hash(ledger_id))),
             mark=SQL(CHAIN_FUNCTIONS_MARK),
             channel=Identifier(table.replace(".", "_")))


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
