"""Words for codes: the gate's reason codes, roles, kinds of people and decisions, as a
kindergarten leader would say them (translated when shown)."""

from __future__ import annotations

from consentreg.domain.reason_texts import reason_text

from .i18n import N_, gettext, language


def reason(code: str) -> str:
    """A reason code in words, in the page's language (the texts are shared with the coverage
    report: consentreg.domain.reason_texts)."""
    return reason_text(code, language())


def translated(words: dict[str, str]) -> dict[str, str]:
    """Every word of one of the tables below in the page's language, looked up once for a page
    that shows them thousands of times (an auditor's consents page)."""
    return {code: gettext(word) for code, word in words.items()}


ROLES = {
    "admin": N_("administrator"),
    "registrar": N_("registrar"),
    "publisher": N_("publisher"),
    "auditor": N_("auditor"),
    "self": N_("the person themself"),
    "guardian": N_("guardian"),
    "guardian without responsibility": N_("guardian without parental responsibility"),
    "guardian without parental responsibility": N_("guardian without parental responsibility"),
    "other": N_("no longer a guardian"),
}
KINDS = {
    "child": N_("child"),
    "adult": N_("adult"),
    "staff": N_("staff"),
    "grant": N_("yes"),
    "refusal": N_("no"),
    "withdrawal": N_("withdrawn"),
}
METHODS = {
    "paper": N_("paper form"),
    "email": N_("e-mail"),
    "digital": N_("digital form"),
    "in-person": N_("in person"),
}
# what each event of a person's history did, in plain words
ACTIONS = {
    "person.add": N_("Registered"),
    "person.correct": N_("Details corrected"),
    "person.leave": N_("Marked as left"),
    "person.restrict": N_("Identity protected (never published)"),
    "person.unrestrict": N_("Identity protection lifted"),
    "guardian.add": N_("Guardian added"),
    "guardian.remove": N_("Guardian removed"),
    "consent.grant": N_("Consent given"),
    "consent.refusal": N_("Consent refused"),
    "consent.withdrawal": N_("Consent withdrawn"),
    "photo.add": N_("Photo registered"),
    "photo.tag": N_("Tagged in a photo"),
    "photo.untag": N_("Tag removed from a photo"),
    "photo.complete": N_("Photo's tagging confirmed complete"),
    "publication.released": N_("Photo published"),
    "publication.refused": N_("Publishing refused"),
    "publication.takedown": N_("Published photo taken down"),
    "publication.delivery": N_("Published file delivered"),
    "evidence.read": N_("Scan of a consent form read"),
    "audit.query": N_("Data about them viewed"),
}
FIELDS = {
    "name": N_("name"),
    "born": N_("birth date"),
    "ref": N_("reference"),
    "unit": N_("unit"),
}
# how far a consent round has come for a child (consentreg.domain.rounds.child_state)
ROUND_STATES = {
    "answered": N_("Answered"),
    "partly answered": N_("Partly answered"),
    "not answered": N_("Not answered"),
}
