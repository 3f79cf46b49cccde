"""merge: the demo letter personalised for N recipients, against the bare Jinja2 render of its template.

Setup (not measured): the demo campaign and its letter to the Prime Minister
(campaign/demo.py), two more citations of demo evidence in the body so it cites 10 items,
36 more signatories (40 in all), and N recipients imported from the UK Commons Popolo file
(repeated as bench/import_people.py does) written on the letter as its addressees.

Cosign: in a process of its own (so its peak memory is the render's, not the setup's),
in one session, ``letters.merge.LetterMerge`` loads the letter, its recipients,
signatories (with their chamber and party) and cited evidence from the database, then
renders the letter for each recipient: the Document every format is written from, and
the HTML and text an e-mail carries.
Baseline, in the same run: the same compiled subject and body templates rendered with
``Template.render`` and a context dict prepared beforehand for every recipient.

    python -m bench.merge [--size 5000] [--backend sqlite postgresql]
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import sqlalchemy as sa

from bench import common
from bench.import_people import make_file
from bench.run_all import standalone

DEFAULT_SIZE = 5000
CITATIONS = 10
SIGNATORIES = 40
_SLUG = re.compile(r"""(?:cite|evidence)\("([^"]+)"\)""")


def _setup(size: int, work_dir: Path) -> int:
    """The demo letter with 10 citations, 40 signatories and ``size`` recipients; returns its id."""
    from campaign import demo
    from campaign.db import session_scope, utcnow
    from contacts.imports import import_file
    from contacts.models import Person
    from letters import demo as letters_demo
    from letters.models import Letter, Signature, SignatureStatus

    with session_scope() as session:
        demo.load(session)
    path = make_file(size + SIGNATORIES, work_dir / f"merge-popolo-{size}.json")
    with session_scope() as session:
        import_file(session, path=path, actor="bench")
    with session_scope() as session:
        letter = session.execute(sa.select(Letter).where(Letter.title == letters_demo.LETTER_TITLE)).scalar_one()
        cited = list(dict.fromkeys(_SLUG.findall(letter.body)))
        extra = [e.slug for e in demo.EVIDENCE if e.slug not in cited][:CITATIONS - len(cited)]
        addition = "We draw your attention too to " + " and ".join(f'{{{{ cite("{slug}") }}}}' for slug in extra)
        body = letter.body.replace("\n\nYours sincerely,", f"\n\n{addition}.\n\nYours sincerely,")
        signed = set(session.execute(sa.select(Signature.person_id).where(Signature.letter_id == letter.id)).scalars())
        imported = list(session.execute(sa.select(Person.id, Person.name).where(Person.id.not_in(signed))
                                        .order_by(Person.id.desc()).limit(size + SIGNATORIES - len(signed))))
        signers, recipients = imported[:SIGNATORIES - len(signed)], imported[SIGNATORIES - len(signed):]
        session.add_all(Signature(letter_id=letter.id, person_id=pid, status=SignatureStatus.signed,
                                  printed_name=f"{name} MP", responded_at=utcnow()) for pid, name in signers)
        # Set in SQL: the approved letter's text is frozen for the service, not for the benchmark's setup.
        session.execute(sa.update(Letter).where(Letter.id == letter.id).values(
            body=body, addressees=[{"person_id": pid} for pid, _ in recipients]))
        letter_id = letter.id
    assert len(cited) + len(extra) == CITATIONS, f"the letter cites {len(cited) + len(extra)} items"
    return letter_id


def _cosign(letter_id: int) -> tuple[float, int]:
    from campaign.db import session_scope
    from letters import service
    from letters.merge import LetterMerge

    start = time.perf_counter()
    count = 0
    with session_scope() as session:
        letter = service.get_letter(session, letter_id=letter_id)
        for merged in LetterMerge(session, letter=letter):  # not kept: a send writes each one out and lets it go
            count += 1
    elapsed = time.perf_counter() - start
    document = merged.document
    assert len(document.notes) == CITATIONS and len(document.signatories) == SIGNATORIES
    assert merged.html and merged.text and "Dear " in merged.text
    return elapsed, count


def _cosign_process(letter_id: int) -> tuple[float, int, float]:
    """The best of three merges and the peak memory of the process that ran them."""
    seconds, count = min(_cosign(letter_id) for _ in range(3))
    return seconds, count, common.own_peak_rss_mb()


def _prepared(letter_id: int):
    """The compiled templates and one ready context dict per recipient (all outside the timing)."""
    from campaign.db import session_scope
    from campaign.models import Campaign
    from letters import service
    from letters.rendering.document import CampaignInfo, MergeContext, Sender
    from letters.rendering.engine import DEFAULT_LIMITS, Citations, _compile

    with session_scope() as session:
        letter = service.get_letter(session, letter_id=letter_id)
        campaign = session.get(Campaign, letter.campaign_id)
        found = service.recipients(session, letter=letter)
        signatories = tuple(service.letter_signatories(session, letter_id=letter.id))
        citations = Citations(service.evidence_lookup(session, letter))
        for slug in dict.fromkeys(_SLUG.findall(letter.body)):
            citations.number(slug)
        base = MergeContext(campaign=CampaignInfo(name=campaign.name, slug=campaign.slug, timezone=campaign.timezone,
                                                  summary=campaign.summary),
                            letter_date=service.letter_date(letter),
                            sender=Sender(name=letter.sender_name, organisation=letter.sender_organisation,
                                          email=letter.sender_email),
                            signatories=signatories).template_values()
        subject, body = letter.subject, letter.body
    marks = {slug: f"[{number}]" for slug, number in citations.numbers.items()}
    contexts = [{**base, "recipient": r, "cite": marks.__getitem__, "evidence": marks.__getitem__} for r in found]
    return _compile(subject, "subject", DEFAULT_LIMITS)[0], _compile(body, "body", DEFAULT_LIMITS)[0], contexts


def _baseline(subject, body, contexts) -> tuple[float, int]:
    start = time.perf_counter()
    for context in contexts:
        subject.render(context)
        body.render(context)
    return time.perf_counter() - start, len(contexts)


def run(backend: str, size: int, work_dir: Path) -> tuple[list[common.Result], dict[str, float]]:
    from campaign import migrate

    with common.environment(backend, work_dir, "merge") as env:
        Path(env["VAR_DIR"]).mkdir(parents=True)
        with common.applied(env):
            from campaign.db import get_engine

            engine = get_engine()
            migrate.upgrade(engine=engine)
            letter_id = _setup(size, work_dir)
            subject, body, contexts = _prepared(letter_id)
            # The best of three for both: the machines are shared, and one slow moment is not Cosign's.
            base_seconds, base_count = min(_baseline(subject, body, contexts) for _ in range(3))
            engine.dispose()
            cosign_seconds, cosign_count, cosign_memory = common.in_fresh_process(_cosign_process, letter_id)
    assert base_count == cosign_count == size, (base_count, cosign_count, size)
    notes = (f"{size:,} recipients, {CITATIONS} citations, {SIGNATORIES} signatories; Cosign (letters.merge) loads "
             f"recipients, signatories and evidence, and renders each Document with its HTML and text "
             f"({1000 * cosign_seconds / size:.2f} ms/letter; baseline {1000 * base_seconds / size:.2f} ms/letter)")
    result = common.Result("merge", backend, size / cosign_seconds, size / base_seconds, "l/s", True, 0.5, 0.8, notes)
    return [result], {"merge (the process that renders)": cosign_memory}


if __name__ == "__main__":
    standalone("merge", DEFAULT_SIZE, run)
