"""Every kind of audit event, described once: the rows it writes, how each of their columns
appears in the event (an ID, a payload value, a digest of ciphertext, the event's instant or
actor), and so how the event is replayed.

The writers (`record`, `RowBatch.record`) derive the event from the rows they write, and the
replay (`replay`) derives the rows from the event, both from the same description: a column added
here is written, logged and verified alike. A column added to a table later is `absent` in
older events: the description says what those events imply, or that it cannot be compared.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from consentreg.crypto import sha256_hex
from consentreg.domain.audit_chain import canonical_json

if TYPE_CHECKING:
    from consentreg.services.audit.events import LoggedEvent

SKIP: Any = object()


"""What an `absent` rule answers for an older event whose value cannot be known."""

Row = Mapping[str, Any]


@dataclass(frozen=True)
class Form:
    """How a column's value is carried by an event, and what the replay expects the column to
    hold (for ciphertext and the texts only hashed in events: their SHA-256, as verification
    reads them)."""

    to_event: Callable[[Any], Any]
    expected: Callable[[Any], Any]


def _same(value: Any) -> Any:
    return value


def _or_none(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else convert(value)


PLAIN = Form(_same, _same)
DIGEST = Form(_or_none(lambda v: sha256_hex(bytes(v))), _same)  # ciphertext columns
TEXT_DIGEST = Form(_or_none(lambda v: sha256_hex(v.encode())), _same)  # texts only hashed
DAY = Form(_or_none(date.isoformat), _or_none(date.fromisoformat))
INSTANT = Form(_or_none(datetime.isoformat), _or_none(datetime.fromisoformat))
JSON_LIST = Form(_or_none(json.loads), _or_none(canonical_json))


@dataclass(frozen=True)
class Field:
    """One column: where the event carries it (`ids`, `payload`, `at`, `actor`, `item` for the
    rows of a list, `action` for the action's suffix) under `name`, in `form`."""

    column: str
    where: str
    name: str = ""
    form: Form = PLAIN
    absent: Callable[[LoggedEvent], Any] | None = None


def ID(column: str, name: str) -> Field:  # noqa: N802 - reads as the table it builds
    return Field(column, "ids", name)


def P(  # noqa: N802
    column: str,
    name: str | None = None,
    form: Form = PLAIN,
    absent: Callable[[LoggedEvent], Any] | None = None,
) -> Field:
    return Field(column, "payload", name or column, form, absent)


def AT(column: str) -> Field:  # noqa: N802
    return Field(column, "at")


def BY(column: str) -> Field:  # noqa: N802
    return Field(column, "actor")


def ITEM(column: str) -> Field:  # noqa: N802
    return Field(column, "item")


def ACTION(column: str) -> Field:  # noqa: N802
    return Field(column, "action")


@dataclass(frozen=True)
class Part:
    """The rows of one table an event writes: one (`insert`, `update`, `delete` by `key`), or one
    per item of the list `each` names ("ids:consents", "payload:name_tokens"), or none when
    `present` is false (a consent without evidence)."""

    table: str
    fields: tuple[Field, ...]
    op: str = "insert"
    key: tuple[str, ...] = ("id",)
    each: str | None = None
    present: str | None = None  # the ids entry that is None when the part wrote no row
    # the writer's name for these rows, when one event writes a table twice (a corrected name
    # removes some of a person's name words and adds others); default: the table's name
    rows: str | None = None
    # a list part added to an action later: events from before it carry no list (no rows)
    since_later: bool = False

    @property
    def source(self) -> str:
        return self.rows or self.table


@dataclass(frozen=True)
class Kind:
    actions: tuple[str, ...]
    parts: tuple[Part, ...]


def _unknown(_e: LoggedEvent) -> Any:
    return SKIP


def _none(_e: LoggedEvent) -> Any:
    return None


def _zero(_e: LoggedEvent) -> Any:
    return 0


def _no_ref(e: LoggedEvent) -> Any:
    return None if e.payload.get("ref_bidx") is None else SKIP


def _legacy_delivery(e: LoggedEvent) -> Any:
    return "delivered" if e.action == "publication.released" else None


# an evidence blob: the bytes of one evidence file, stored once per content. Its chunks are not
# described here: `audit verify` decrypts them (bound to the blob, their index and count) and
# checks that they hash to the blob's sha256, which these events carry.
_BLOB_FIELDS = (
    ID("id", "blob"),
    P("sha256", "evidence_sha256"),
    P("size", "evidence_size"),
    P("chunks", "blob_chunks"),
    AT("created_at"),
    BY("created_by"),
    # whose data key the chunks are under (migration 0016); before it: the register's
    P("person_id", "blob_person", absent=_none),
)

# a tag change clears "complete" (the tagger confirms again); events from before that rule
# carry no "complete" and changed nothing
_TAGS_CHANGED = Part("photos", (ID("id", "photo"), P("complete", absent=_unknown)), op="update")

# the caption index of a person's name (R11, migration 0013): the keys a new or corrected name
# adds, and those a corrected name no longer has
_CAPTION_KEYS_ADDED = Part(
    "person_caption_keys",
    (ID("person_id", "person"), ITEM("caption_key")),
    key=("person_id", "caption_key"),
    each="payload:caption_keys",
    since_later=True,
)
_CAPTION_KEYS_REMOVED = Part(
    "person_caption_keys",
    (ID("person_id", "person"), ITEM("caption_key")),
    op="delete",
    key=("person_id", "caption_key"),
    each="payload:old_caption_keys",
    rows="old_caption_keys",
    since_later=True,
)

KINDS: tuple[Kind, ...] = (
    Kind(
        ("unit.add",),
        (
            Part(
                "units",
                (
                    ID("id", "unit"),
                    P("code"),
                    P("name"),
                    ID("parent_id", "parent"),
                    AT("created_at"),
                    BY("created_by"),
                ),
            ),
        ),
    ),
    Kind(
        ("purpose.add",),
        (
            Part(
                "purposes",
                (
                    ID("id", "purpose"),
                    P("code"),
                    P("title"),
                    P("max_px"),
                    P("guardian_policy", "guardians"),
                    P("valid_until_mmdd", "valid_until"),
                    P("valid_days"),
                    AT("created_at"),
                    BY("created_by"),
                ),
            ),
        ),
    ),
    Kind(
        ("purpose.notice",),
        (
            Part(
                "notice_versions",
                (
                    ID("id", "notice"),
                    ID("purpose_id", "purpose"),
                    P("version"),
                    P("text", "sha256", TEXT_DIGEST),  # the text is checked by its digest
                    P("sha256"),
                    P("requires_new_consent"),
                    AT("created_at"),
                    BY("created_by"),
                ),
            ),
        ),
    ),
    Kind(
        ("person.add",),
        (
            Part(
                "people",
                (
                    ID("id", "person"),
                    P("kind"),
                    ID("unit_id", "unit"),
                    Field("protected", "const"),
                    P("name_ct", "name_ct_sha256", DIGEST),
                    P("born_ct", "born_ct_sha256", DIGEST),
                    P("ref_bidx"),
                    # events before references were encrypted: none when there was no reference
                    P("ref_ct", "ref_ct_sha256", DIGEST, absent=_no_ref),
                    AT("created_at"),
                    BY("created_by"),
                    Field("left_at", "const"),
                    # events before the caption index (migration 0013): not built (0)
                    P("caption_index", absent=_zero),
                ),
            ),
            Part(
                "person_name_tokens",
                (ID("person_id", "person"), ITEM("token_bidx")),
                key=("person_id", "token_bidx"),
                each="payload:name_tokens",
            ),
            _CAPTION_KEYS_ADDED,
            # the person's own data key (migration 0016), wrapped: its digest; none before
            Part(
                "person_keys",
                (
                    ID("person_id", "person_key"),
                    P("wrapped_key", "person_key_sha256", DIGEST),
                    AT("created_at"),
                    Field("erased_at", "const"),
                    Field("erased_by", "const"),
                ),
                key=("person_id",),
                present="person_key",
            ),
        ),
    ),
    # erasure (GDPR Art 17): the person's data key destroyed, their blind indexes removed
    Kind(
        ("person.erase",),
        (
            Part(
                "person_keys",
                (
                    ID("person_id", "person"),
                    Field("wrapped_key", "const"),
                    AT("erased_at"),
                    BY("erased_by"),
                ),
                op="update",
                key=("person_id",),
            ),
            Part("people", (ID("id", "person"), P("ref_bidx")), op="update"),
            Part(
                "person_name_tokens",
                (ID("person_id", "person"), ITEM("token_bidx")),
                op="delete",
                key=("person_id", "token_bidx"),
                each="payload:old_name_tokens",
                rows="old_name_tokens",
            ),
            _CAPTION_KEYS_REMOVED,
        ),
    ),
    Kind(
        ("person.correct",),
        (
            # the values replaced, kept for the as-of views
            Part(
                "person_corrections",
                (
                    ID("id", "correction"),
                    ID("person_id", "person"),
                    P("version"),
                    P("fields"),
                    P("name_ct", "old_name_ct_sha256", DIGEST),
                    P("born_ct", "old_born_ct_sha256", DIGEST),
                    P("ref_ct", "old_ref_ct_sha256", DIGEST),
                    ID("unit_id", "old_unit"),
                    AT("at"),
                    BY("actor"),
                ),
            ),
            # the values now (those not corrected written again as they were)
            Part(
                "people",
                (
                    ID("id", "person"),
                    ID("unit_id", "unit"),
                    P("name_ct", "name_ct_sha256", DIGEST),
                    P("born_ct", "born_ct_sha256", DIGEST),
                    P("ref_bidx"),
                    P("ref_ct", "ref_ct_sha256", DIGEST),
                    # events before the caption index (migration 0013) left it as it was
                    P("caption_index", absent=_unknown),
                ),
                op="update",
            ),
            Part(
                "person_name_tokens",
                (ID("person_id", "person"), ITEM("token_bidx")),
                op="delete",
                key=("person_id", "token_bidx"),
                each="payload:old_name_tokens",
                rows="old_name_tokens",
            ),
            Part(
                "person_name_tokens",
                (ID("person_id", "person"), ITEM("token_bidx")),
                key=("person_id", "token_bidx"),
                each="payload:name_tokens",
            ),
            _CAPTION_KEYS_REMOVED,
            _CAPTION_KEYS_ADDED,
        ),
    ),
    # the caption index built for a person registered before it (or rebuilt for a new version)
    Kind(
        ("person.index",),
        (
            Part("people", (ID("id", "person"), P("caption_index")), op="update"),
            _CAPTION_KEYS_REMOVED,
            _CAPTION_KEYS_ADDED,
        ),
    ),
    Kind(
        ("person.leave",),
        (Part("people", (ID("id", "person"), P("left_at", form=INSTANT)), op="update"),),
    ),
    Kind(
        ("person.restrict", "person.unrestrict"),
        (
            Part(
                "restriction_events",
                (
                    ID("id", "restriction"),
                    ID("person_id", "person"),
                    ACTION("action"),
                    P("reason_ct", "reason_ct_sha256", DIGEST),
                    AT("at"),
                    BY("actor"),
                ),
            ),
            Part("people", (ID("id", "person"), P("protected")), op="update"),
        ),
    ),
    Kind(
        ("guardian.add",),
        (
            Part(
                "guardianships",
                (
                    ID("id", "guardianship"),
                    ID("child_id", "child"),
                    ID("guardian_id", "guardian"),
                    P("parental_responsibility"),
                    AT("added_at"),
                    BY("added_by"),
                    Field("removed_at", "const"),
                    Field("removed_by", "const"),
                    # a later start (migration 0014); older events: from birth
                    P("starts_on", form=DAY, absent=_none),
                ),
            ),
        ),
    ),
    Kind(
        ("guardian.remove",),
        (
            Part(
                "guardianships",
                (
                    ID("id", "guardianship"),
                    AT("removed_at"),
                    BY("removed_by"),
                ),
                op="update",
            ),
        ),
    ),
    Kind(
        ("consent.grant", "consent.refusal", "consent.withdrawal"),
        (
            # before the evidence part: both carry evidence_sha256 and evidence_size, which the
            # evidence part also carries when an earlier consent's blob is reused (no blob row)
            Part("evidence_blobs", _BLOB_FIELDS, present="blob"),
            Part(
                "evidence",
                (
                    ID("id", "evidence"),
                    P("sha256", "evidence_sha256"),
                    P("size", "evidence_size", absent=_unknown),
                    P("name_ct", "evidence_name_ct_sha256", DIGEST, absent=_unknown),
                    AT("created_at"),
                    BY("created_by"),
                ),
                present="evidence",
            ),
            Part(
                "consent_events",
                (
                    ID("id", "consent"),
                    P("seq"),
                    ID("subject_id", "subject"),
                    ID("purpose_id", "purpose"),
                    ACTION("kind"),
                    ID("consenter_id", "consenter"),
                    P("method"),
                    P("notice_version"),
                    P("given_on", form=DAY),
                    P("effective_at", form=INSTANT),
                    P("valid_from", form=DAY),
                    P("valid_until", form=DAY),
                    ID("withdraws_id", "withdraws"),
                    P("reason_ct", "reason_ct_sha256", DIGEST),
                    ID("evidence_id", "evidence"),
                    AT("recorded_at"),
                    BY("recorded_by"),
                ),
            ),
        ),
    ),
    # evidence files an older release kept in a PC's home folder, moved into the register
    Kind(("evidence.adopt",), (Part("evidence_blobs", _BLOB_FIELDS),)),
    # a stored scan written out (`consent evidence`): who read which consent's evidence, when
    Kind(("evidence.read",), ()),
    Kind(
        ("photo.add",),
        (
            Part(
                "photos",
                (
                    ID("id", "photo"),
                    P("sha256"),
                    P("format"),
                    P("width"),
                    P("height"),
                    P("byte_size", absent=_unknown),
                    ID("unit_id", "unit"),
                    P("photographer_ct", "photographer_ct_sha256", DIGEST),
                    P("original_name_ct", "original_name_ct_sha256", DIGEST),
                    P("complete"),
                    AT("created_at"),
                    BY("created_by"),
                    # the faces found at registration (R17); photos registered before face
                    # detection were never looked at: none
                    P("faces", form=JSON_LIST, absent=_none),
                    P("face_detector", absent=_none),
                ),
            ),
        ),
    ),
    # the faces of a photo registered before face detection (or without the detector), found
    # later from its file (`photo detect`)
    Kind(
        ("photo.faces",),
        (
            Part(
                "photos",
                (ID("id", "photo"), P("faces", form=JSON_LIST), P("face_detector")),
                op="update",
            ),
        ),
    ),
    Kind(
        ("photo.tag",),
        (
            Part(
                "photo_subjects",
                (
                    ID("photo_id", "photo"),
                    ID("person_id", "person"),
                    P("region"),
                    P("identifiable"),
                    AT("tagged_at"),
                    BY("tagged_by"),
                ),
                key=("photo_id", "person_id"),
            ),
            _TAGS_CHANGED,
        ),
    ),
    Kind(
        ("photo.untag",),
        (
            Part(
                "photo_subjects",
                (ID("photo_id", "photo"), ID("person_id", "person")),
                op="delete",
                key=("photo_id", "person_id"),
            ),
            _TAGS_CHANGED,
        ),
    ),
    Kind(
        ("photo.complete",),
        (Part("photos", (ID("id", "photo"), Field("complete", "const")), op="update"),),
    ),
    Kind(
        ("publication.released", "publication.refused"),
        (
            Part(
                "publications",
                (
                    ID("id", "publication"),
                    ID("photo_id", "photo"),
                    P("input_sha256"),
                    ID("purpose_id", "purpose"),
                    ACTION("decision"),
                    P("reasons", form=JSON_LIST),
                    AT("decided_at"),
                    BY("actor"),
                    P("caption_ct", "caption_ct_sha256", DIGEST),
                    P("output_name"),
                    P("output_sha256"),
                    P("output_size"),
                    Field("taken_down_at", "const"),
                    Field("taken_down_by", "const"),
                    Field("takedown_note_ct", "const"),
                    # releases before revision 0006 had their file written first: delivered
                    P("delivery", absent=_legacy_delivery),
                    P("output_dir_ct", "output_dir_ct_sha256", DIGEST, absent=_none),
                    P("input_path_ct", "input_path_ct_sha256", DIGEST, absent=_none),
                ),
            ),
            Part(
                "publication_consents",
                (ID("publication_id", "publication"), ITEM("consent_event_id")),
                key=("publication_id", "consent_event_id"),
                each="ids:consents",
            ),
            Part(
                "publication_subjects",
                (ID("publication_id", "publication"), ITEM("person_id")),
                key=("publication_id", "person_id"),
                each="ids:subjects",
            ),
        ),
    ),
    Kind(
        ("publication.takedown",),
        (
            Part(
                "publications",
                (
                    ID("id", "publication"),
                    AT("taken_down_at"),
                    BY("taken_down_by"),
                    P("takedown_note_ct", "note_ct_sha256", DIGEST),
                ),
                op="update",
            ),
        ),
    ),
    Kind(
        ("publication.delivery",),
        (Part("publications", (ID("id", "publication"), P("delivery")), op="update"),),
    ),
    Kind(
        ("register.create",),
        (
            Part(
                "register_identity",
                (
                    ID("id", "register"),
                    Field("slot", "const"),
                    P("key_fingerprint"),
                    AT("created_at"),
                    BY("created_by"),
                ),
            ),
        ),
    ),
    Kind(
        ("register.trust_key",),
        (
            Part(
                "trusted_keys",
                (
                    ID("id", "trusted_key"),
                    P("key_id"),
                    P("name"),
                    P("public_key"),
                    AT("added_at"),
                    BY("added_by"),
                ),
            ),
        ),
    ),
    Kind(
        ("user.add",),
        (
            Part(
                "users",
                (
                    ID("id", "user"),
                    P("login"),
                    P("role"),
                    AT("added_at"),
                    BY("added_by"),
                    Field("removed_at", "const"),
                    Field("removed_by", "const"),
                ),
            ),
            Part(
                "user_units",
                (ID("user_id", "user"), ITEM("unit_id")),
                key=("user_id", "unit_id"),
                each="ids:units",
            ),
        ),
    ),
    Kind(
        ("user.remove",),
        (Part("users", (ID("id", "user"), AT("removed_at"), BY("removed_by")), op="update"),),
    ),
    # a login's web password: the event carries the SHA-256 of the argon2id hash, never the hash
    Kind(
        ("user.password",),
        (
            Part(
                "user_credentials",
                (
                    ID("login", "login"),
                    P("password_hash", "password_hash_sha256", TEXT_DIGEST),
                    P("session_epoch"),
                    AT("set_at"),
                    BY("set_by"),
                ),
            ),
        ),
    ),
    Kind(
        ("user.password_reset",),
        (
            Part(
                "user_credentials",
                (
                    ID("login", "login"),
                    P("password_hash", "password_hash_sha256", TEXT_DIGEST),
                    P("session_epoch"),
                    AT("set_at"),
                    BY("set_by"),
                ),
                op="update",
                key=("login",),
            ),
        ),
    ),
    Kind(
        ("user.logout_all",),
        (
            Part(
                "user_credentials",
                (ID("login", "login"), P("session_epoch")),
                op="update",
                key=("login",),
            ),
        ),
    ),
    # consent rounds (issue #21): a round, its personal links (a token's SHA-256 only), a link
    # revoked (or replaced by a new letter), answered through, the round closed
    Kind(
        ("round.start",),
        (
            Part(
                "rounds",
                (
                    ID("id", "round"),
                    ID("unit_id", "unit"),
                    P("purpose_ids", "purposes", JSON_LIST),
                    P("ends_on", form=DAY),
                    AT("created_at"),
                    BY("created_by"),
                    Field("closed_at", "const"),
                    Field("closed_by", "const"),
                ),
            ),
        ),
    ),
    Kind(
        ("round.link",),
        (
            Part(
                "round_links",
                (
                    ID("id", "link"),
                    ID("round_id", "round"),
                    ID("child_id", "child"),
                    ID("recipient_id", "recipient"),
                    P("token_sha256"),
                    AT("issued_at"),
                    BY("issued_by"),
                    Field("revoked_at", "const"),
                    Field("revoked_by", "const"),
                    Field("answered_at", "const"),
                ),
            ),
        ),
    ),
    Kind(
        ("round.revoke",),
        (
            Part(
                "round_links",
                (ID("id", "link"), AT("revoked_at"), BY("revoked_by")),
                op="update",
            ),
        ),
    ),
    Kind(
        ("round.answer",),
        (Part("round_links", (ID("id", "link"), AT("answered_at")), op="update"),),
    ),
    Kind(
        ("round.close",),
        (Part("rounds", (ID("id", "round"), AT("closed_at"), BY("closed_by")), op="update"),),
    ),
    Kind(
        ("audit.checkpoint",),
        (
            Part(
                "audit_checkpoints",
                (
                    ID("id", "checkpoint"),
                    P("size"),
                    P("root"),
                    P("head"),
                    P("key_id"),
                    P("note", "note_sha256", TEXT_DIGEST),
                    AT("created_at"),
                    BY("created_by"),
                ),
            ),
        ),
    ),
)

# the constant columns: what every new row holds there (the writer checks its row agrees)
CONSTANTS: dict[tuple[str, str], Any] = {
    ("register_identity", "slot"): 1,
    ("users", "removed_at"): None,
    ("users", "removed_by"): None,
    ("people", "protected"): False,
    ("people", "left_at"): None,
    ("person_keys", "erased_at"): None,
    ("person_keys", "erased_by"): None,
    ("person_keys", "wrapped_key"): None,  # only `person.erase` sets it by a constant
    ("guardianships", "removed_at"): None,
    ("guardianships", "removed_by"): None,
    ("photos", "complete"): True,  # only `photo.complete` sets it by a constant
    ("publications", "taken_down_at"): None,
    ("publications", "taken_down_by"): None,
    ("publications", "takedown_note_ct"): None,
    ("rounds", "closed_at"): None,
    ("rounds", "closed_by"): None,
    ("round_links", "revoked_at"): None,
    ("round_links", "revoked_by"): None,
    ("round_links", "answered_at"): None,
}

BY_ACTION: dict[str, Kind] = {action: kind for kind in KINDS for action in kind.actions}
