"""Every reason a person's standing can give has words in bokmål and English, from one source
that the coverage report, `person show` and the web application's pages all use."""

from __future__ import annotations

from consentreg.domain.model import ReasonCode
from consentreg.domain.reason_texts import REASONS, reason_text
from consentreg.services.coverage import EXPLAINED

# what judge_subject gives for one person of a registered, completely tagged photo
STANDING_CODES = {
    ReasonCode.NO_CONSENT,
    ReasonCode.GUARDIAN_CONSENT_MISSING,
    ReasonCode.SELF_CONSENT_REQUIRED,
    ReasonCode.CONSENT_REFUSED,
    ReasonCode.CONSENT_WITHDRAWN,
    ReasonCode.CONSENT_EXPIRED,
    ReasonCode.CONSENT_OUTDATED_NOTICE,
    ReasonCode.PROTECTED_IDENTITY,
}


def test_every_reason_of_a_standing_has_a_text_in_both_languages() -> None:
    assert {code.value for code in STANDING_CODES} <= set(REASONS)
    for code in REASONS:
        nb, en = reason_text(code), reason_text(code, "en")
        assert nb
        assert en
        assert nb != en
        assert code not in nb
        assert EXPLAINED[code] == en


def test_an_unknown_code_is_shown_as_itself() -> None:
    assert reason_text("faces_untagged") == "faces_untagged"


def test_the_web_pages_show_the_same_words_in_the_language_asked() -> None:
    from flask import Flask

    from web.texts import reason

    app = Flask("reasons")
    for language, header in (("nb", "nb-NO,nb;q=0.9"), ("en", "en-GB,en;q=0.9")):
        with app.test_request_context(headers={"Accept-Language": header}):
            assert reason("consent_refused") == reason_text("consent_refused", language)
