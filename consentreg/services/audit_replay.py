"""The register as the audit log says it should be: every event replayed, in seq order.

Each handler turns one event into the rows it created, changed or removed, keyed like the
tables and holding the values the tables hold: aware datetimes, dates, booleans, and for
ciphertext (`*_ct`), notice texts and checkpoint notes the SHA-256 digests the events carry.
`audit verify` compares this with the tables; the auditor views answer from it, as of an
instant by replaying only the events up to that instant.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from consentreg.db.base import Base
from consentreg.domain.audit_chain import canonical_json
from consentreg.services.audit import QUERY_ACTION, LoggedEvent

# every table the log describes; audit_events is the log itself
TABLES = (
    "units",
    "purposes",
    "notice_versions",
    "people",
    "person_name_tokens",
    "restriction_events",
    "guardianships",
    "evidence",
    "consent_events",
    "photos",
    "photo_subjects",
    "publications",
    "publication_consents",
    "publication_subjects",
    "audit_checkpoints",
)
PRIMARY_KEYS = {t: tuple(c.name for c in Base.metadata.tables[t].primary_key) for t in TABLES}


def row_key(table: str, values: dict[str, Any]) -> str:
    """A row's primary key as one string; composite keys are joined with '/'."""
    columns = PRIMARY_KEYS[table]
    if len(columns) == 1:
        return str(values[columns[0]])
    return "/".join(str(values[c]) for c in columns)


@dataclass(slots=True)
class ExpectedRow:
    """A row's expected values, the seq of the event that created it and, for columns a later
    event changed, the seq of that event (most rows are never changed: no dict per row)."""

    values: dict[str, Any]
    created: int
    changed: dict[str, int] | None = None

    def set(self, seq: int, values: dict[str, Any]) -> None:
        self.values.update(values)
        if self.changed is None:
            self.changed = {}
        self.changed.update(dict.fromkeys(values, seq))

    def seq_of(self, column: str) -> int:
        """The seq of the event that last set the column."""
        return self.changed.get(column, self.created) if self.changed else self.created

    @property
    def last_seq(self) -> int:
        return max(self.created, *self.changed.values()) if self.changed else self.created


@dataclass(frozen=True)
class ReplayProblem:
    seq: int
    kind: str
    message: str


@dataclass
class State:
    tables: dict[str, dict[str, ExpectedRow]] = field(
        default_factory=lambda: {t: {} for t in TABLES}
    )
    problems: list[ReplayProblem] = field(default_factory=list)

    def rows(self, table: str) -> dict[str, ExpectedRow]:
        return self.tables[table]

    def get(self, table: str, key: str) -> dict[str, Any] | None:
        row = self.tables[table].get(key)
        return row.values if row is not None else None

    def insert(self, table: str, seq: int, values: dict[str, Any]) -> None:
        key = row_key(table, values)
        if key in self.tables[table]:
            self.problem(seq, "duplicate_row", f"event creates {table} row {key} a second time")
        self.tables[table][key] = ExpectedRow(values, seq)

    def update(self, table: str, key: str, seq: int, values: dict[str, Any]) -> None:
        row = self.tables[table].get(key)
        if row is None:
            self.problem(seq, "unknown_row", f"event changes {table} row {key}, never created")
            return
        row.set(seq, values)

    def delete(self, table: str, key: str, seq: int) -> None:
        if self.tables[table].pop(key, None) is None:
            self.problem(seq, "unknown_row", f"event removes {table} row {key}, never created")

    def problem(self, seq: int, kind: str, message: str) -> None:
        self.problems.append(ReplayProblem(seq, kind, message))


Handler = Callable[[State, LoggedEvent], None]


def _created(e: LoggedEvent, at: str = "created_at", by: str = "created_by") -> dict[str, Any]:
    return {at: e.at, by: e.actor}


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text is not None else None


def _unit_add(s: State, e: LoggedEvent) -> None:
    p = e.payload
    values = {"id": e.ids["unit"], "code": p["code"], "name": p["name"]}
    s.insert("units", e.seq, {**values, "parent_id": e.ids.get("parent"), **_created(e)})


def _purpose_add(s: State, e: LoggedEvent) -> None:
    p = e.payload
    values = {"id": e.ids["purpose"], "code": p["code"], "title": p["title"]}
    values |= {"max_px": p["max_px"], "guardian_policy": p["guardians"]}
    values |= {"valid_until_mmdd": p["valid_until"], "valid_days": p["valid_days"]}
    s.insert("purposes", e.seq, values | _created(e))


def _purpose_notice(s: State, e: LoggedEvent) -> None:
    p = e.payload
    values = {"id": e.ids["notice"], "purpose_id": e.ids["purpose"], "version": p["version"]}
    values |= {"text": p["sha256"], "sha256": p["sha256"]}  # the text is checked by digest
    values |= {"requires_new_consent": p["requires_new_consent"]}
    s.insert("notice_versions", e.seq, values | _created(e))


def _person_add(s: State, e: LoggedEvent) -> None:
    p, pid = e.payload, e.ids["person"]
    values = {"id": pid, "kind": p["kind"], "unit_id": e.ids.get("unit"), "protected": False}
    values |= {"name_ct": p["name_ct_sha256"], "born_ct": p["born_ct_sha256"]}
    values |= {"ref_bidx": p["ref_bidx"]}
    if "ref_ct_sha256" in p:
        values["ref_ct"] = p["ref_ct_sha256"]
    elif p["ref_bidx"] is None:
        values["ref_ct"] = None
    s.insert("people", e.seq, values | _created(e))
    for token in p["name_tokens"]:
        s.insert("person_name_tokens", e.seq, {"person_id": pid, "token_bidx": token})


def _person_restriction(s: State, e: LoggedEvent) -> None:
    p, pid = e.payload, e.ids["person"]
    action = "restrict" if p["protected"] else "unrestrict"
    values = {"id": e.ids["restriction"], "person_id": pid, "action": action}
    values |= {"reason_ct": p["reason_ct_sha256"], "at": e.at, "actor": e.actor}
    s.insert("restriction_events", e.seq, values)
    s.update("people", pid, e.seq, {"protected": p["protected"]})


def _guardian_add(s: State, e: LoggedEvent) -> None:
    values = {"id": e.ids["guardianship"], "child_id": e.ids["child"]}
    values |= {"guardian_id": e.ids["guardian"]}
    values |= {"parental_responsibility": e.payload["parental_responsibility"]}
    values |= {"removed_at": None, "removed_by": None}
    s.insert("guardianships", e.seq, values | _created(e, "added_at", "added_by"))


def _guardian_remove(s: State, e: LoggedEvent) -> None:
    changes = _created(e, "removed_at", "removed_by")
    s.update("guardianships", e.ids["guardianship"], e.seq, changes)


def _evidence(s: State, e: LoggedEvent) -> None:
    p = e.payload
    values = {"id": e.ids["evidence"], "sha256": p["evidence_sha256"], **_created(e)}
    if "evidence_size" in p:
        values["size"] = p["evidence_size"]
    if "evidence_name_ct_sha256" in p:
        values["name_ct"] = p["evidence_name_ct_sha256"]
    s.insert("evidence", e.seq, values)


def _consent(s: State, e: LoggedEvent) -> None:
    p, ids = e.payload, e.ids
    if ids.get("evidence") is not None:
        _evidence(s, e)
    values = {  # one literal: a municipality's log replays a million of these
        "id": ids["consent"],
        "seq": p["seq"],
        "subject_id": ids["subject"],
        "purpose_id": ids["purpose"],
        "kind": e.action.removeprefix("consent."),
        "consenter_id": ids["consenter"],
        "method": p["method"],
        "notice_version": p["notice_version"],
        "given_on": _day(p["given_on"]),
        "effective_at": datetime.fromisoformat(p["effective_at"]),
        "valid_from": _day(p["valid_from"]),
        "valid_until": _day(p["valid_until"]),
        "withdraws_id": ids.get("withdraws"),
        "reason_ct": p["reason_ct_sha256"],
        "evidence_id": ids.get("evidence"),
        "recorded_at": e.at,
        "recorded_by": e.actor,
    }
    s.insert("consent_events", e.seq, values)


def _photo_add(s: State, e: LoggedEvent) -> None:
    p = e.payload
    values = {"id": e.ids["photo"], "sha256": p["sha256"], "format": p["format"]}
    values |= {"width": p["width"], "height": p["height"], "unit_id": e.ids.get("unit")}
    values |= {"photographer_ct": p["photographer_ct_sha256"], "complete": p["complete"]}
    values |= {"original_name_ct": p["original_name_ct_sha256"]}
    if "byte_size" in p:
        values["byte_size"] = p["byte_size"]
    s.insert("photos", e.seq, values | _created(e))


def _photo_tag(s: State, e: LoggedEvent) -> None:
    values = {"photo_id": e.ids["photo"], "person_id": e.ids["person"]}
    values |= {"region": e.payload["region"], "identifiable": e.payload["identifiable"]}
    s.insert("photo_subjects", e.seq, values | _created(e, "tagged_at", "tagged_by"))


def _photo_untag(s: State, e: LoggedEvent) -> None:
    s.delete("photo_subjects", f"{e.ids['photo']}/{e.ids['person']}", e.seq)


def _photo_complete(s: State, e: LoggedEvent) -> None:
    s.update("photos", e.ids["photo"], e.seq, {"complete": True})


def _publication(s: State, e: LoggedEvent) -> None:
    p, pid = e.payload, e.ids["publication"]
    values = {"id": pid, "photo_id": e.ids.get("photo"), "input_sha256": p["input_sha256"]}
    values |= {"purpose_id": e.ids["purpose"], "decision": e.action.removeprefix("publication.")}
    values |= {"reasons": canonical_json(p["reasons"]), "decided_at": e.at, "actor": e.actor}
    values |= {"caption_ct": p["caption_ct_sha256"], "output_name": p["output_name"]}
    values |= {"output_sha256": p["output_sha256"], "output_size": p["output_size"]}
    values |= {"taken_down_at": None, "taken_down_by": None, "takedown_note_ct": None}
    # releases recorded before deliveries were tracked (revision 0006) had their file first
    legacy = "delivered" if values["decision"] == "released" else None
    values |= {"delivery": p.get("delivery", legacy)}
    values |= {"output_dir_ct": p.get("output_dir_ct_sha256")}
    values |= {"input_path_ct": p.get("input_path_ct_sha256")}
    s.insert("publications", e.seq, values)
    for consent in e.ids["consents"]:
        s.insert(
            "publication_consents", e.seq, {"publication_id": pid, "consent_event_id": consent}
        )
    for person in e.ids["subjects"]:
        s.insert("publication_subjects", e.seq, {"publication_id": pid, "person_id": person})


def _takedown(s: State, e: LoggedEvent) -> None:
    changes = _created(e, "taken_down_at", "taken_down_by")
    changes["takedown_note_ct"] = e.payload["note_ct_sha256"]
    s.update("publications", e.ids["publication"], e.seq, changes)


def _delivery(s: State, e: LoggedEvent) -> None:
    s.update("publications", e.ids["publication"], e.seq, {"delivery": e.payload["delivery"]})


def _checkpoint(s: State, e: LoggedEvent) -> None:
    p = e.payload
    values = {"id": e.ids["checkpoint"], "size": p["size"], "root": p["root"], "head": p["head"]}
    values |= {"key_id": p["key_id"], "note": p["note_sha256"]}
    s.insert("audit_checkpoints", e.seq, values | _created(e))


def _no_state(s: State, e: LoggedEvent) -> None:  # noqa: ARG001 - a read leaves no rows
    return


HANDLERS: dict[str, Handler] = {
    "unit.add": _unit_add,
    "purpose.add": _purpose_add,
    "purpose.notice": _purpose_notice,
    "person.add": _person_add,
    "person.restrict": _person_restriction,
    "person.unrestrict": _person_restriction,
    "guardian.add": _guardian_add,
    "guardian.remove": _guardian_remove,
    "consent.grant": _consent,
    "consent.refusal": _consent,
    "consent.withdrawal": _consent,
    "photo.add": _photo_add,
    "photo.tag": _photo_tag,
    "photo.untag": _photo_untag,
    "photo.complete": _photo_complete,
    "publication.released": _publication,
    "publication.refused": _publication,
    "publication.takedown": _takedown,
    "publication.delivery": _delivery,
    "audit.checkpoint": _checkpoint,
    QUERY_ACTION: _no_state,
}


def replay(events: Iterable[LoggedEvent]) -> State:
    """The expected state after the events; what cannot be replayed is listed in `problems`."""
    state = State()
    for event in events:
        handler = HANDLERS.get(event.action)
        if handler is None:
            state.problem(event.seq, "unknown_action", f"action {event.action!r} is not known")
            continue
        try:
            handler(state, event)
        except (KeyError, TypeError, ValueError, AttributeError):
            state.problem(event.seq, "malformed_event", "the event lacks a field its action needs")
    return state
