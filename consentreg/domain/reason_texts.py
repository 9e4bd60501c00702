"""What each reason code means, in words a kindergarten leader uses: bokmål and English, one
source for every page that explains a refusal (the coverage report, the web application's unit
overview and person page, `person show`). Reason codes themselves stay machine codes (`--json`,
the publication log); only these texts are shown to people."""

from __future__ import annotations

from typing import NamedTuple


class ReasonText(NamedTuple):
    nb: str
    en: str


REASONS: dict[str, ReasonText] = {
    "no_consent": ReasonText(
        "Ingen har samtykket ennå (eller samtykket gjelder først senere).",
        "Nobody has consented yet (or the consent starts later).",
    ),
    "guardian_consent_missing": ReasonText(
        "En forelder eller verge med foreldreansvar har ikke samtykket.",
        "A parent or guardian with parental responsibility has not consented.",
    ),
    "self_consent_required": ReasonText(
        "15 år eller eldre: personen må samtykke selv.",
        "Aged 15 or older: the person must consent themself.",
    ),
    "consent_refused": ReasonText(
        "Noen har sagt nei (barnets eget nei teller også).",
        "Someone said no (the child's own no counts too).",
    ),
    "consent_withdrawn": ReasonText(
        "Samtykket er trukket tilbake.",
        "The consent was withdrawn.",
    ),
    "consent_expired": ReasonText(
        "Samtykket har gått ut: be om et nytt.",
        "The consent has expired: ask for a new one.",
    ),
    "consent_outdated_notice": ReasonText(
        "Samtykket ble gitt til en eldre tekst om formålet: spør på nytt.",
        "The consent was given to an older text about the purpose: ask again.",
    ),
    "protected_identity": ReasonText(
        "Skjermet identitet: publiseres aldri.",
        "Protected identity: never published.",
    ),
}


def reason_text(code: str, language: str = "nb") -> str:
    """The text for a reason code in `language` ("nb" or "en"); an unknown code is shown as
    itself."""
    found = REASONS.get(code)
    if found is None:
        return code
    return found.en if language == "en" else found.nb
