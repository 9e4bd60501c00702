"""Small immutable values the publishing rules work on (stdlib only).

The database layer converts rows into these; `consentreg.domain.rules.evaluate` turns them into a
`Decision`. All datetimes are timezone-aware (UTC); calendar dates are days in Europe/Oslo.

The values are named tuples: as immutable as frozen dataclasses, but built at C speed
(`audit consents` builds over a million of them for a municipality; docs/architecture.md).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import NamedTuple

from consentreg.domain.faces import Box, FaceTag

DEFAULT_MAX_PX = 1280
"""R12: the long edge of a released copy unless the purpose says otherwise."""


class PersonKind(StrEnum):
    CHILD = "child"
    ADULT = "adult"
    STAFF = "staff"


class EventKind(StrEnum):
    GRANT = "grant"
    REFUSAL = "refusal"
    WITHDRAWAL = "withdrawal"


class GuardianPolicy(StrEnum):
    ALL = "all"
    ANY = "any"


class Method(StrEnum):
    PAPER = "paper"
    EMAIL = "email"
    DIGITAL = "digital"
    IN_PERSON = "in-person"


class ReasonCode(StrEnum):
    """Stable refusal codes (docs/rules.md and docs/cli.md)."""

    NO_CONSENT = "no_consent"
    UNREGISTERED_PHOTO = "unregistered_photo"
    TAGGING_INCOMPLETE = "tagging_incomplete"
    GUARDIAN_CONSENT_MISSING = "guardian_consent_missing"
    SELF_CONSENT_REQUIRED = "self_consent_required"
    CONSENT_REFUSED = "consent_refused"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    CONSENT_EXPIRED = "consent_expired"
    CONSENT_OUTDATED_NOTICE = "consent_outdated_notice"
    PROTECTED_IDENTITY = "protected_identity"
    COPYRIGHT_UNKNOWN = "copyright_unknown"
    CAPTION_FULL_NAME = "caption_full_name"
    IMAGE_INVALID = "image_invalid"
    IMAGE_UNSUPPORTED = "image_unsupported"
    IMAGE_TOO_LARGE = "image_too_large"
    UNKNOWN_PURPOSE = "unknown_purpose"
    FACES_UNTAGGED = "faces_untagged"
    FACES_UNCHECKED = "faces_unchecked"
    ALREADY_RELEASED = "already_released"  # not a rule: released before, not taken down


class ConsentEvent(NamedTuple):
    """One grant, refusal or withdrawal by one consenter, for one subject and purpose.

    `effective_at` is when the decision takes effect: for a grant or refusal the start of the day
    it was given (Europe/Oslo), for a withdrawal its own timestamp. `seq` orders events that take
    effect at the same instant (the order they were recorded in). `valid_from`/`valid_until` are
    only set on grants (both days inclusive). `withdraws` is the id of the grant a withdrawal
    withdraws. `notice_version` is the purpose's notice version the consenter was shown.
    """

    id: str
    seq: int
    subject_id: str
    purpose: str
    kind: EventKind
    consenter_id: str
    effective_at: datetime
    notice_version: int
    valid_from: date | None = None
    valid_until: date | None = None
    withdraws: str | None = None


class Guardian(NamedTuple):
    person_id: str
    parental_responsibility: bool


class Subject(NamedTuple):
    """A person tagged as identifiable in a photo, as the register knew them at the instant.

    `full_name` is the decrypted name, used only for the caption check; it never appears in a
    reason. `guardians` are the guardianships in force at the instant.
    """

    id: str
    born: date
    full_name: str
    protected: bool = False
    guardians: tuple[Guardian, ...] = ()


class Purpose(NamedTuple):
    """`min_notice_version`: the oldest notice version still sufficient at the instant (raised by a
    revision marked as requiring new consent)."""

    code: str
    guardian_policy: GuardianPolicy = GuardianPolicy.ALL
    min_notice_version: int = 1


class PhotoFacts(NamedTuple):
    """What the register says of a photo. `registered=False` for unknown bytes."""

    registered: bool
    tagging_complete: bool = False
    photographer_recorded: bool = False
    subject_ids: tuple[str, ...] = ()
    # tagged as not identifiable: they need no consent, but a protected identity still refuses
    hidden_ids: tuple[str, ...] = ()
    # R17: the faces found (boxes in the upright photo's pixels), None when never looked at;
    # every tag, identifiable or not, with its region
    faces: tuple[Box, ...] | None = ()
    face_tags: tuple[FaceTag, ...] = ()


class Reason(NamedTuple):
    code: ReasonCode
    subject_id: str | None
    message: str


class Decision(NamedTuple):
    """The gate's answer. `relied_on`: ids of the grants that made each subject's consent hold
    (recorded with a release, for the take-down list)."""

    reasons: tuple[Reason, ...] = ()
    relied_on: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        return not self.reasons
