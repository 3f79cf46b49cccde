"""The batch merge gives each recipient exactly what render_letter gives them, one at a time."""

from __future__ import annotations

import pytest
from sqlmodel import select

from campaign import demo as campaign_demo
from letters import demo, service
from letters.merge import LetterMerge
from letters.models import Letter
from letters.rendering import RenderError, to_html_fragment, to_text
from letters.rendering.engine import fixed_citations
from tests.letters.factories import make_campaign, make_letter, make_member


def recipients_of(session, people, offices=("", "", "Minister of State for Asia", "")):
    facts = service.people_facts(session, [p.id for p in people])
    return [service.recipient_for_person(p, facts[p.id], office) for p, office in zip(people, offices, strict=False)]


def assert_same_as_render_letter(session, letter, recipients=None):
    merged = list(LetterMerge(session, letter=letter, recipients=recipients))
    assert [m.recipient for m in merged] == (recipients or service.recipients(session, letter=letter))
    for one in merged:
        expected = service.render_letter(session, letter=letter, recipient=one.recipient)
        assert one.document == expected
        assert one.subject == expected.subject
        assert one.html == str(to_html_fragment(expected))
        assert one.text == to_text(expected)
    return merged


def test_the_demo_letter_merges_exactly_as_render_letter_renders_each_recipient(session):
    campaign_demo.load(session)
    letter = session.exec(select(Letter).where(Letter.title == demo.LETTER_TITLE)).one()
    people = [make_member(session, "Sarah Jones", family_name="Jones", prefix="Ms"),
              make_member(session, "Lord Smith of Leigh", family_name="Smith", prefix="Lord", chamber="House of Lords",
                          party="Crossbench"),
              make_member(session, "Catherine West", family_name="West", suffix="MP"),
              make_member(session, "Ed Davey", family_name="Davey", prefix="Sir", party="Liberal Democrat")]
    # The people are read from the database (as columns, in bulk) the way service.recipients reads them.
    offices = ("", "", "Minister of State for Asia", "")
    letter.addressees = [*letter.addressees,
                         *({"person_id": p.id, "office": office} for p, office in zip(people, offices, strict=True))]
    session.add(letter)
    session.flush()
    merged = assert_same_as_render_letter(session, letter)
    salutations = [next(line for line in m.text.splitlines() if line.startswith("Dear ")) for m in merged]
    assert salutations == ["Dear Prime Minister,", "Dear Ms Jones,", "Dear Lord Smith,", "Dear Minister,",
                           "Dear Sir Ed,"]
    assert len(merged[0].document.notes) == 8 and len(merged[0].document.signatories) == 4
    # The recipient-independent parts are shared, the salutation is not.
    assert merged[0].document.notes is merged[1].document.notes
    assert merged[0].document.blocks[1] is merged[1].document.blocks[1]


def test_numbering_that_depends_on_the_recipient_is_worked_out_for_each(session):
    campaign = make_campaign(session)
    body = """{{ recipient.salutation }},

{% if recipient.party == "Labour" %}Your party has said so{{ cite("skynet-returns") }}.{% endif %}
Liu had command{{ cite("liu-command") }}.

{% for s in signatories %}{{ s.printed_name }}; {% endfor %}{{ cite("skynet-returns") }}"""
    letter = make_letter(session, campaign, body=body)
    assert not fixed_citations(body) and fixed_citations("{{ cite('a') }} {{ recipient.name }} {{ evidence('b') }}")
    people = [make_member(session, "Ann Labour", family_name="Labour"),
              make_member(session, "Bob Tory", family_name="Tory", party="Conservative"),
              make_member(session, "Cat Labour", family_name="Catlabour")]
    merged = assert_same_as_render_letter(session, letter, recipients_of(session, people))
    assert [n.snapshot.slug for n in merged[0].document.notes] == ["skynet-returns", "liu-command"]
    assert [n.snapshot.slug for n in merged[1].document.notes] == ["liu-command", "skynet-returns"]


def test_a_missing_field_names_the_recipient_as_render_letter_does(session):
    campaign = make_campaign(session)
    letter = make_letter(session, campaign, body="Dear {{ recipient.nickname }}, {{ cite('liu-command') }}")
    recipient = recipients_of(session, [make_member(session, "Ann Jones", family_name="Jones")])[0]
    with pytest.raises(RenderError) as merged:
        LetterMerge(session, letter=letter, recipients=[recipient]).render(recipient)
    with pytest.raises(RenderError) as single:
        service.render_letter(session, letter=letter, recipient=recipient)
    assert str(merged.value) == str(single.value) and "Ann Jones" in str(merged.value)


def test_the_same_evidence_placed_twice_is_replayed_in_order(session):
    campaign = make_campaign(session)
    body = """{{ recipient.salutation }},

{{ evidence("skynet-returns") }}

Command{{ cite(" liu-command ") }}.

{{ evidence("skynet-returns") }}"""
    letter = make_letter(session, campaign, body=body)
    people = [make_member(session, "Ann Jones", family_name="Jones"), make_member(session, "Bo Li", family_name="Li")]
    merged = assert_same_as_render_letter(session, letter, recipients_of(session, people))
    assert merged[1].text.count("10,000 returns") == 2
