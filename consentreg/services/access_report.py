"""The access report a kindergarten hands to a parent (GDPR Art 15), in bokmål: one printable,
self-contained HTML page (no script, no external file, a Content-Security-Policy that allows
none) with the person, their guardians, every consent with the full notice text it was given
for, the evidence on file (what kind and when, not its content), the registered photos, every
publication (channel, date) and every take-down.

It is drawn from the same reading as the JSON export (consentreg.services.export), and recorded
in the audit log the same way (view `export`, format `html`). What the JSON export leaves out
for the person's sake is left out here too: restriction reasons, captions, take-down notes,
original file names. For a person with a protected identity, the unit and the other people are
left out as well (a protected identity may be protected from a relative).
"""

from __future__ import annotations

from datetime import date, datetime
from html import escape as _escape
from typing import Any

from sqlalchemy import select

from consentreg.crypto import ERASED
from consentreg.db.models import Evidence, NoticeVersion, Person, Purpose
from consentreg.display import clean, clean_text
from consentreg.domain.calendar import OSLO
from consentreg.services.access import require
from consentreg.services.audit.events import record_query
from consentreg.services.export import subject_document
from consentreg.services.people import decrypt_name, resolve_person
from consentreg.services.unit_of_work import Context

KIND = {"child": "barn", "adult": "voksen", "staff": "ansatt"}
STATUS = {
    "dpv:ConsentGiven": "Samtykke gitt",
    "dpv:ConsentRefused": "Samtykke nektet",
    "dpv:ConsentWithdrawn": "Samtykke trukket tilbake",
}
METHOD = {"paper": "papirskjema", "email": "e-post", "digital": "digitalt", "in-person": "muntlig"}
DECISION = {"released": "publisert", "refused": "ikke publisert (stoppet)"}

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 50em; color: #1a1a1a;
  line-height: 1.45; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 1.8em; border-bottom: 1px solid #999; }
table { border-collapse: collapse; width: 100%; margin: 0.5em 0; }
th, td { border: 1px solid #aaa; padding: 0.3em 0.5em; text-align: left; vertical-align: top; }
th { background: #eee; }
blockquote { margin: 0.4em 0 1em 0; padding: 0.4em 0.8em; border-left: 4px solid #888;
  background: #f6f6f6; white-space: pre-wrap; }
p.meta { color: #444; }
@media print { body { margin: 0; max-width: none; } }
"""


def h(value: object) -> str:
    """Escaped for HTML after hidden characters are shown as escapes (display.clean)."""
    return _escape(clean("" if value is None else value))


def _day(text: str | None) -> str:
    """An instant as a parent reads it: "07.12.2026 kl. 14:05", Oslo time."""
    if not text:
        return "–"
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(OSLO)
    except ValueError:
        return text
    return when.strftime("%d.%m.%Y kl. %H:%M")


ERASED_NB = "(slettet)"  # an erased person's values (crypto.ERASED), in the report's bokmål


def _nb(value: str) -> str:
    return ERASED_NB if value == ERASED else value


def _date(value: date | str | None) -> str:
    if value is None:
        return "–"
    if value == ERASED:
        return ERASED_NB
    parsed = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    return parsed.strftime("%d.%m.%Y")


def access_report(ctx: Context, key: str) -> str:
    """The report for one person (by ID, prefix or `ref:`), as one HTML page."""
    require(ctx, "audit.read")
    person = resolve_person(ctx, key)
    document = subject_document(ctx, person)
    protected = person.protected
    subject = document["subject"]
    names = {} if protected else _names(ctx, document, person.id)  # relatives unnamed
    parts = [
        _head(_nb(subject["name"])),
        f"<h1>Innsyn: opplysninger om {h(subject['name'])}</h1>",
        f'<p class="meta">Utskrift fra samtykkeregisteret {h(_day(document["dct:created"]))}. '
        "Dette er alt registeret har om personen (personvernforordningen artikkel 15).</p>",
        _person(subject, protected),
        "" if protected else _guardians(document, person.id, names),
        _consents(ctx, document, person.id, names),
        _photos(document),
        _publications(document),
        "<h2>Rettigheter</h2><p>Du kan trekke et samtykke tilbake når som helst, like enkelt som "
        "det ble gitt. Kontakt barnehagen eller skolen. Bilder som er publisert med et samtykke "
        "som trekkes tilbake, blir tatt ned.</p>",
        "</body></html>\n",
    ]
    record_query(ctx, "export", ids={"subject": person.id}, payload={"format": "html"})
    return "\n".join(p for p in parts if p)


def _head(name: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="nb">\n<head>\n<meta charset="utf-8">\n'
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
        f"<title>Innsyn – {h(name)}</title>\n<style>{STYLE}</style>\n</head>\n<body>"
    )


def _names(ctx: Context, document: dict[str, Any], pid: str) -> dict[str, str]:
    ids = {g["guardian"] for g in document["guardianships"]} | {
        g["child"] for g in document["guardianships"]
    }
    ids |= {c["dpv:isIndicatedBy"]["@id"].rsplit(":", 1)[1] for c in document["consent_records"]}
    ids.discard(pid)
    if not ids:
        return {}
    rows = ctx.session.scalars(select(Person).where(Person.id.in_(sorted(ids))))
    return {p.id: _nb(decrypt_name(ctx, p)) for p in rows}


def _person(subject: dict[str, Any], protected: bool) -> str:
    unit = subject["unit"]
    rows = [
        ("Navn", _nb(subject["name"])),
        ("Fødselsdato", _date(subject["born"])),
        ("Registrert som", KIND.get(subject["kind"], subject["kind"])),
    ]
    if unit and not protected:
        rows.append(("Barnehage/skole", unit["name"]))
    if subject.get("external_ref"):
        rows.append(("Referanse", subject["external_ref"]))
    cells = "".join(f"<tr><th scope='row'>{h(k)}</th><td>{h(v)}</td></tr>" for k, v in rows)
    note = "<p>Noen opplysninger er utelatt av hensyn til personvernet.</p>" if protected else ""
    return f"<h2>Personen</h2><table>{cells}</table>{note}"


def _guardians(document: dict[str, Any], pid: str, names: dict[str, str]) -> str:
    rows = []
    for g in document["guardianships"]:
        if g["child"] != pid:
            continue
        role = "med foreldreansvar" if g["parental_responsibility"] else "uten foreldreansvar"
        until = f", til {_day(g['removed_at'])}" if g["removed_at"] else ""
        rows.append(
            f"<tr><td>{h(names.get(g['guardian'], 'ukjent'))}</td><td>{h(role)}</td>"
            f"<td>fra {h(_day(g['added_at']))}{h(until)}</td></tr>"
        )
    if not rows:
        return ""
    head = "<tr><th>Foresatt</th><th>Rolle</th><th>Registrert</th></tr>"
    return f"<h2>Foresatte</h2><table>{head}{''.join(rows)}</table>"


def _notice_text(ctx: Context, purpose_code: str, version: int) -> str:
    found = ctx.session.scalar(
        select(NoticeVersion.text)
        .join(Purpose, Purpose.id == NoticeVersion.purpose_id)
        .where(Purpose.code == purpose_code, NoticeVersion.version == version)
    )
    return found or ""


def _evidence_line(ctx: Context, record: dict[str, Any]) -> str:
    justification = record["dpv:hasJustification"]
    if not justification:
        return "Ingen dokumentasjon lagret"
    evidence = ctx.session.get(Evidence, justification["dct:identifier"])
    size = justification["dct:extent"]
    when = _day(evidence.created_at.isoformat()) if evidence else "–"
    return f"Dokumentasjon lagret {when} ({size} byte)"


def _consents(ctx: Context, document: dict[str, Any], pid: str, names: dict[str, str]) -> str:
    blocks = []
    for record in document["consent_records"]:
        if record["dpv:hasDataSubject"]["@id"].rsplit(":", 1)[1] != pid:
            continue
        purpose = record["dpv:hasPurpose"]
        by_id = record["dpv:isIndicatedBy"]["@id"].rsplit(":", 1)[1]
        by = "personen selv" if by_id == pid else names.get(by_id, "en foresatt")
        version = record["dpv:hasNotice"]["dct:hasVersion"]
        status = STATUS.get(record["dpv:hasConsentStatus"], record["dpv:hasConsentStatus"])
        valid = record["dct:valid"]
        validity = (
            f", gyldig {_date(valid.split('/')[0])}–{_date(valid.split('/')[1])}" if valid else ""
        )
        method = METHOD.get(record["dpv:hasIndicationMethod"] or "", "")
        blocks.append(
            f"<h3>{h(purpose['dct:title'])} ({h(purpose['dct:identifier'])})</h3>"
            f"<p><strong>{h(status)}</strong> av {h(by)}, {h(_day(record['dpv:isIndicatedAtTime']))}"
            f"{h(validity)}{', ' + h(method) if method else ''}. "
            f"{h(_evidence_line(ctx, record))}.</p>"
            f"<p>Informasjonen som ble gitt (versjon {h(version)}):</p>"
            f"<blockquote>{_escape(clean_text(_notice_text(ctx, purpose['dct:identifier'], version)))}"
            "</blockquote>"
        )
    body = "".join(blocks) or "<p>Ingen samtykker er registrert.</p>"
    return f"<h2>Samtykker</h2>{body}"


def _photos(document: dict[str, Any]) -> str:
    photos = document["photos"]
    if not photos:
        return "<h2>Bilder</h2><p>Ingen bilder er registrert.</p>"
    rows = "".join(
        f"<tr><td>{h(_day(p['tagged_at']))}</td><td>{h(p['width'])}×{h(p['height'])}</td>"
        f"<td>{'ja' if p['identifiable'] else 'nei'}</td></tr>"
        for p in photos
    )
    head = "<tr><th>Registrert</th><th>Størrelse</th><th>Gjenkjennelig</th></tr>"
    return f"<h2>Bilder</h2><p>{len(photos)} bilde(r).</p><table>{head}{rows}</table>"


def _publications(document: dict[str, Any]) -> str:
    pubs = document["publications"]
    if not pubs:
        return "<h2>Publiseringer</h2><p>Ingen bilder er publisert.</p>"
    rows = "".join(
        f"<tr><td>{h(p['purpose'])}</td><td>{h(DECISION.get(p['decision'], p['decision']))}</td>"
        f"<td>{h(_day(p['decided_at']))}</td><td>{h(_day(p['taken_down_at']))}</td></tr>"
        for p in pubs
    )
    head = "<tr><th>Kanal</th><th>Utfall</th><th>Dato</th><th>Tatt ned</th></tr>"
    return f"<h2>Publiseringer</h2><table>{head}{rows}</table>"
