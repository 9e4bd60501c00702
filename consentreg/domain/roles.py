"""Who may do what: the four roles and the actions each allows (docs/shared-server.md, "Roles").

Actions are the audit log's action names for changes ("person.add", "publication.released") and
names of the same form for reads ("read.register", "audit.read"). A registrar's changes to people
and their consents are limited to the units they work for, sub-units included (the service layer
checks the unit); the other roles are not limited by unit.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

ROLES = ("admin", "registrar", "publisher", "auditor")

_READS_OF_EVERY_ROLE = ("read.register",)
# a writer may also end its own web sessions ("log out everywhere"); an auditor's login writes
# nothing but the record of its reads, so an admin does that for an auditor
_WRITES_OF_EVERY_WRITER = ("audit.checkpoint", "register.trust_key", "user.logout_all")

ROLE_ACTIONS: dict[str, tuple[str, ...]] = {
    "admin": ("*",),
    "registrar": (
        *_READS_OF_EVERY_ROLE,
        *_WRITES_OF_EVERY_WRITER,
        # every change to people but erasure, which is the admin's alone
        "person.add",
        "person.correct",
        "person.index",
        "person.leave",
        "person.restrict",
        "person.unrestrict",
        "guardian.*",
        "consent.*",
        "round.*",
        "evidence.read",
        # their units' photos: register, tag, untag, confirm complete (the web photo pages)
        "photo.add",
        "photo.tag",
        "photo.untag",
        "photo.complete",
    ),
    "publisher": (
        *_READS_OF_EVERY_ROLE,
        *_WRITES_OF_EVERY_WRITER,
        "photo.*",
        "publication.*",
        "publish.check",
        "takedown.list",
    ),
    "auditor": (*_READS_OF_EVERY_ROLE, "audit.read", "evidence.read", "takedown.list"),
}

# not a role of any login: what a guardian's personal link (issue #21) allows, for its one
# child's unit, while the guardian answers through it (access.act_through_link)
LINK_ROLE = "link"
ROLE_ACTIONS[LINK_ROLE] = (
    "consent.grant",
    "consent.refusal",
    "consent.withdrawal",
    "round.answer",
    "round.link",  # a new link in place of its own (round_answers.replace_link)
    "round.revoke",
)

UNIT_SCOPED = ("registrar", LINK_ROLE)
"""Roles whose changes to people (and their guardians and consents) are limited to their units."""

ROLE_TITLES = {
    "admin": "administers the register: users, units, purposes; may do everything",
    "registrar": "records people, guardians, consents, evidence and photo tags for their units",
    "publisher": "registers and tags photos, checks, publishes and takes down",
    "auditor": "reads everything, verifies the log, exports; changes nothing",
}


def allows(role: str, action: str) -> bool:
    return any(fnmatchcase(action, pattern) for pattern in ROLE_ACTIONS.get(role, ()))


def roles_allowing(action: str) -> list[str]:
    """The roles that allow `action`, admin last (it allows everything)."""
    found = [r for r in ROLES if r != "admin" and allows(r, action)]
    return [*found, "admin"]


def actions_matching(role: str, actions: list[str]) -> list[str]:
    """The actions of `actions` (the log's known ones) that `role` allows."""
    return [a for a in actions if allows(role, a)]
