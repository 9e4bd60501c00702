"""The audit events by the people they name: the `audit_mentions` index.

A person's history (`audit subject`, the web's history page) and the access report for a parent
need every event that names the person. Searching `audit_events.object_ids` for the ID reads the
whole log (1.3 million events in a municipality: most of a second); the index answers from a
few rows. It is derived data, never a second source: each event's rows are written with the
event, in the same transaction (`audit log`, `RowBatch`), and `audit verify` rebuilds the whole
index from the log in SQL and reports every row missing or extra.

An event names a person when one of its object IDs under a key in PERSON_KEYS is their ID (a
string, or an element of a list of IDs). tests/services/test_audit_mentions.py keeps
PERSON_KEYS equal to the keys the event kinds and the recorded views use for people.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, TextClause, bindparam, text

PERSON_KEYS = (
    "child",
    "consenter",
    "guardian",
    "people",
    "person",
    "person_key",
    "recipient",
    "subject",
    "subjects",
)


def mention_rows(seq: int, ids: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The index rows of event `seq` with these object IDs: one per person it names."""
    named: set[str] = set()
    for key in PERSON_KEYS:
        value = ids.get(key)
        if isinstance(value, str):
            named.add(value)
        elif isinstance(value, list):
            named.update(v for v in value if isinstance(v, str))
    return [{"object_id": person, "seq": seq} for person in sorted(named)]


_NAMED_PG = (
    "SELECT j.value #>> '{}' AS object_id, e.seq AS seq"
    " FROM audit_events e, jsonb_each(e.object_ids::jsonb) j"
    " WHERE e.seq <= :through AND j.key IN :keys AND jsonb_typeof(j.value) = 'string'"
    " UNION ALL SELECT x #>> '{}', e.seq"
    " FROM audit_events e, jsonb_each(e.object_ids::jsonb) j,"
    " jsonb_array_elements(CASE WHEN jsonb_typeof(j.value) = 'array'"
    " THEN j.value ELSE '[]'::jsonb END) x"
    " WHERE e.seq <= :through AND j.key IN :keys AND jsonb_typeof(x) = 'string'"
)
_NAMED_SQLITE = (
    "SELECT j.value AS object_id, e.seq AS seq FROM audit_events e, json_each(e.object_ids) j"
    " WHERE e.seq <= :through AND j.key IN :keys AND j.type = 'text'"
    " UNION ALL SELECT a.value, e.seq FROM audit_events e, json_each(e.object_ids) j,"
    " json_each(CASE WHEN j.type = 'array' THEN j.value ELSE '[]' END) a"
    " WHERE e.seq <= :through AND j.key IN :keys AND a.type = 'text'"
)


def differences_query(dialect: str) -> TextClause:
    """The index rows that differ from what the log up to :through says (the persons each event
    names under PERSON_KEYS, in the database's own JSON functions), in seq order, at most
    :limit: each (object_id, seq, expected, stored) with expected 0 (a row no event names) or
    stored 0 (a row missing). One pass: both sides in one grouping."""
    named = _NAMED_PG if dialect == "postgresql" else _NAMED_SQLITE
    # two constants joined, the values bound
    sql = (
        "SELECT object_id, seq, MAX(x) AS expected, MAX(y) AS stored FROM ("  # noqa: S608
        "SELECT object_id, seq, 1 AS x, 0 AS y FROM (" + named + ") named"
        " UNION ALL SELECT object_id, seq, 0, 1 FROM audit_mentions"
        ") sides GROUP BY object_id, seq HAVING MAX(x) = 0 OR MAX(y) = 0"
        " ORDER BY seq, object_id LIMIT :limit"
    )
    return text(sql).bindparams(bindparam("keys", list(PERSON_KEYS), expanding=True))


def differences(connection: Connection, *, through: int, limit: int) -> list[tuple[str, int, bool]]:
    """Up to `limit` differences between the index and the log up to seq `through` (the whole
    log in this snapshot): (person ID, seq, True when the row is missing / False when it is
    extra, also for a row of an event that does not exist)."""
    rows = connection.execute(
        differences_query(connection.dialect.name), {"through": through, "limit": limit}
    )
    return [(str(r.object_id), int(r.seq), not r.stored) for r in rows]
