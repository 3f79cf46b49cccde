from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from itsdangerous import URLSafeTimedSerializer
from pypdf import PdfReader
from sqlmodel import select

from campaign import audit
from campaign import service as campaign_service
from campaign.accounts.models import Role
from campaign.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from campaign.schemas import EvidenceUpdate
from letters import service
from letters.models import LetterState, LetterTemplate, Signature, SignatureStatus
from letters.questions import Chamber
from letters.rendering import to_pdf, to_text
from letters.schemas import InvitationCreate, LetterTransition, LetterUpdate, QuestionCreate, QuestionUpdate
from tests.factories import make_user
from tests.letters.factories import advance, make_campaign, make_letter, make_member, open_for_signatures


@pytest.fixture
def staff(session):
    return make_user(session, role=Role.staff)


@pytest.fixture
def coordinator(session):
    return make_user(session, role=Role.coordinator)


def test_default_templates_are_loaded_once(session):
    templates = service.list_templates(session)
    kinds = {t.kind.value for t in templates if t.is_default}
    assert kinds == {"head_of_government", "open_letter", "member_to_minister", "commons_written_question",
                     "lords_written_question", "oral_question", "ep_written_question", "us_congressional_letter",
                     "signatory_invitation", "follow_up_chaser"}
    assert service.load_default_templates(session) == 0
    assert len(session.exec(select(LetterTemplate).where(LetterTemplate.is_default.is_(True))).all()) == 10


def test_a_letter_from_a_template_renders_for_its_addressee(session, staff):
    campaign = make_campaign(session)
    template = next(t for t in service.list_templates(session) if t.slug == "head-of-government")
    from letters.schemas import LetterCreate
    from tests.letters.factories import PRIME_MINISTER
    letter = service.create_letter(session, actor=staff, letter_in=LetterCreate(
        campaign_id=campaign.id, title="To the PM", template_id=template.id, addressees=[PRIME_MINISTER]))
    document = service.render_letter(session, letter=letter)
    assert "Dear Prime Minister," in to_text(document)
    assert document.addressee[0] == "The Rt Hon Rishi Sunak MP"


def test_every_change_is_a_version_and_versions_compare(session, staff):
    letter = make_letter(session, make_campaign(session), actor=staff)
    service.update_letter(session, letter_id=letter.id, actor=staff,
                          letter_in=LetterUpdate(version=1, body=letter.body.replace("Yours sincerely", "Yours")))
    assert [v.version for v in service.list_versions(session, letter_id=letter.id)] == [1, 2]
    rows = service.compare_versions(session, letter_id=letter.id, a=1, b=2)
    changed = [r for r in rows if r.tag != "equal"]
    assert [(r.left, r.right) for r in changed] == [("Yours sincerely,", "Yours,")]
    assert audit.recent(session, entity_type="letter", entity_id=letter.id)[0].action == "letter.update"


def test_a_save_based_on_an_old_version_is_refused_with_the_conflict_shown(session, staff):
    letter = make_letter(session, make_campaign(session), actor=staff)
    service.update_letter(session, letter_id=letter.id, actor=staff, letter_in=LetterUpdate(version=1, title="A"))
    with pytest.raises(Conflict) as caught:
        service.update_letter(session, letter_id=letter.id, actor=staff, letter_in=LetterUpdate(version=1, title="B"))
    assert "version 2" in caught.value.detail and staff.email in caught.value.detail
    assert service.get_letter(session, letter_id=letter.id).title == "A"


def test_a_template_that_does_not_render_is_refused_on_save(session, staff):
    letter = make_letter(session, make_campaign(session), actor=staff)
    with pytest.raises(InvalidInput) as caught:
        service.update_letter(session, letter_id=letter.id, actor=staff,
                              letter_in=LetterUpdate(version=1, body="ok\n{{ ''.__class__ }}"))
    assert caught.value.errors[0].loc == "body:line 2"


ALLOWED = [
    (LetterState.draft, LetterState.in_review), (LetterState.in_review, LetterState.draft),
    (LetterState.in_review, LetterState.approved), (LetterState.approved, LetterState.in_review),
    (LetterState.approved, LetterState.open_for_signatures),
    (LetterState.open_for_signatures, LetterState.signatures_closed),
    (LetterState.signatures_closed, LetterState.open_for_signatures),
    (LetterState.signatures_closed, LetterState.scheduled), (LetterState.scheduled, LetterState.sent),
]
PATH = {
    LetterState.draft: [], LetterState.in_review: [LetterState.in_review],
    LetterState.approved: [LetterState.in_review, LetterState.approved],
    LetterState.open_for_signatures: [LetterState.in_review, LetterState.approved, LetterState.open_for_signatures],
    LetterState.signatures_closed: [LetterState.in_review, LetterState.approved, LetterState.open_for_signatures,
                                    LetterState.signatures_closed],
}


def _at(session, state, staff):
    letter = make_letter(session, make_campaign(session), actor=staff)
    if state == LetterState.scheduled:
        letter = advance(session, letter, *PATH[LetterState.signatures_closed], actor=staff)
        return service.transition(session, letter_id=letter.id, actor=staff, transition_in=LetterTransition(
            to=LetterState.scheduled, scheduled_at=datetime.now(UTC) + timedelta(days=1)))
    return advance(session, letter, *PATH[state], actor=staff)


@pytest.mark.parametrize("start,target", [(a, b) for a in LetterState for b in LetterState
                                          if a not in (LetterState.sent, LetterState.withdrawn) and a != b])
def test_every_transition_is_allowed_or_refused(session, staff, start, target):
    letter = _at(session, start, staff)
    move = LetterTransition(to=target, scheduled_at=datetime.now(UTC) + timedelta(days=1))
    if (start, target) in ALLOWED or target == LetterState.withdrawn or \
            (start, target) in ((LetterState.approved, LetterState.scheduled),
                                (LetterState.scheduled, LetterState.signatures_closed)):
        assert service.transition(session, letter_id=letter.id, transition_in=move, actor=staff).state == target
    else:
        with pytest.raises(Conflict):
            service.transition(session, letter_id=letter.id, transition_in=move, actor=staff)


def test_only_staff_approve_and_approved_text_is_frozen(session, staff, coordinator):
    letter = make_letter(session, make_campaign(session), actor=staff)
    advance(session, letter, LetterState.in_review, actor=staff)
    with pytest.raises(PermissionDenied):
        advance(session, letter, LetterState.approved, actor=coordinator)
    advance(session, letter, LetterState.approved, actor=staff)
    with pytest.raises(Conflict) as caught:
        service.update_letter(session, letter_id=letter.id, actor=staff, letter_in=LetterUpdate(version=1, title="X"))
    assert "review" in caught.value.detail
    advance(session, letter, LetterState.open_for_signatures, actor=coordinator)  # coordinators open signing


def test_approval_freezes_the_cited_evidence_versions(session, staff):
    campaign = make_campaign(session)
    letter = make_letter(session, campaign, actor=staff)
    advance(session, letter, LetterState.in_review, LetterState.approved, actor=staff)
    evidence = campaign_service.get_evidence_by_slug(session, campaign_id=campaign.id, slug="liu-command")
    campaign_service.update_evidence(session, evidence_id=evidence.id, actor="tests",
                                     evidence_in=EvidenceUpdate(source_title="A retitled source"))
    text = to_text(service.render_letter(session, letter=letter))
    assert "Liu Jianchao - caught by his own investigators" in text and "A retitled source" not in text
    cited = service.cited_versions(session, letter_id=letter.id)
    assert [(c.slug, v.version) for c, v in cited] == [("liu-command", 1), ("skynet-returns", 1)]


def _invite(session, letter, people, actor):
    return service.invite(session, letter_id=letter.id, actor=actor,
                          invitation_in=InvitationCreate(person_ids=[p.id for p in people]))


def test_signing_link_signs_once_and_the_block_is_ordered(session, staff, coordinator):
    campaign = make_campaign(session)
    letter = open_for_signatures(session, make_letter(session, campaign, actor=staff), staff)
    alton = make_member(session, "Lord Alton of Liverpool", family_name="Alton", chamber="House of Lords",
                        party="Crossbench", prefix="Lord")
    champion = make_member(session, "Sarah Champion", family_name="Champion", prefix="Ms", suffix="MP")
    loughton = make_member(session, "Tim Loughton", family_name="Loughton", party="Conservative", suffix="MP")
    invited = _invite(session, letter, [alton, champion, loughton], coordinator)
    tokens = {i.person.id: i.token for i in invited}
    view, changed = service.respond(session, token=tokens[champion.id], action="sign",
                                    printed_title="Chair, International Development Committee")
    assert changed and view.signature.printed_name == "Sarah Champion MP"
    _, changed_again = service.respond(session, token=tokens[champion.id], action="sign",
                                       printed_title="Chair, International Development Committee")
    assert not changed_again
    assert len(session.exec(select(Signature).where(Signature.letter_id == letter.id)).all()) == 1
    service.respond(session, token=tokens[alton.id], action="sign")
    service.respond(session, token=tokens[loughton.id], action="decline")
    document = service.render_letter(session, letter=letter)
    assert [s.printed_name for s in document.signatories] == ["Sarah Champion MP", "Lord Alton of Liverpool"]
    summary = service.signature_summary(session, letter_id=letter.id)
    assert summary.counts["signed"] == 2 and summary.counts["declined"] == 1
    assert dict(summary.by_party) == {"Labour": 1, "Crossbench": 1}
    assert summary.party_count == 2 and summary.largest_party_share == 0.5 and summary.cross_party
    pdf_text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(to_pdf(document))).pages)
    assert "Sarah Champion MP" in pdf_text and "Chair, International Development Committee" in pdf_text


def test_withdrawal_until_signing_closes(session, staff):
    letter = open_for_signatures(session, make_letter(session, make_campaign(session), actor=staff), staff)
    member = make_member(session, "Alistair Carmichael", family_name="Carmichael", party="Liberal Democrats",
                         suffix="MP")
    token = _invite(session, letter, [member], staff)[0].token
    service.respond(session, token=token, action="sign")
    service.respond(session, token=token, action="withdraw")
    assert service.signature_summary(session, letter_id=letter.id).counts["withdrawn"] == 1
    service.respond(session, token=token, action="sign")
    advance(session, letter, LetterState.signatures_closed, actor=staff)
    with pytest.raises(Conflict):
        service.respond(session, token=token, action="withdraw")
    assert service.open_link(session, token=token).signature.status == SignatureStatus.signed


def test_forged_expired_and_foreign_links_get_the_same_answer(session, staff):
    letter = open_for_signatures(session, make_letter(session, make_campaign(session), actor=staff), staff)
    member = make_member(session, "Tim Loughton", family_name="Loughton", suffix="MP")
    other = make_member(session, "Sarah Champion", family_name="Champion", suffix="MP")
    invited = _invite(session, letter, [member, other], staff)
    token = invited[0].token
    invitation = invited[0].invitation
    forged_key = URLSafeTimedSerializer("not-the-key", salt="letters.signing-link").dumps(
        {"i": invitation.id, "l": letter.id, "p": member.id, "n": invitation.nonce})
    wrong_person = service._serializer().dumps({"i": invitation.id, "l": letter.id, "p": other.id,
                                                "n": invitation.nonce})
    wrong_nonce = service._serializer().dumps({"i": invitation.id, "l": letter.id, "p": member.id, "n": "guess"})
    unknown = service._serializer().dumps({"i": 987654, "l": letter.id, "p": member.id, "n": "guess"})
    answers = []
    for bad in (forged_key, wrong_person, wrong_nonce, unknown, token[:-3] + "abc", "garbage"):
        with pytest.raises(NotFound) as caught:
            service.open_link(session, token=bad)
        answers.append(caught.value.detail)
    invitation.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    session.add(invitation)
    with pytest.raises(NotFound) as caught:
        service.open_link(session, token=token)
    answers.append(caught.value.detail)
    assert set(answers) == {service.LINK_REFUSED}


def test_correction_request_needs_a_note(session, staff):
    letter = open_for_signatures(session, make_letter(session, make_campaign(session), actor=staff), staff)
    member = make_member(session, "Lord Alton of Liverpool", family_name="Alton", chamber="House of Lords",
                         prefix="Lord", party="Crossbench")
    token = _invite(session, letter, [member], staff)[0].token
    with pytest.raises(InvalidInput):
        service.respond(session, token=token, action="correct")
    view, _ = service.respond(session, token=token, action="correct", note="Please print Professor Lord Alton")
    assert view.signature.status == SignatureStatus.correction_requested
    assert [r.person.id for r in service.signature_summary(session, letter_id=letter.id).to_chase] == [member.id]


def test_questions_are_validated_tabled_and_answered(session, staff):
    campaign = make_campaign(session)
    with pytest.raises(InvalidInput) as caught:
        service.create_question(session, actor=staff, question_in=QuestionCreate(
            campaign_id=campaign.id, chamber=Chamber.lords_written, text="To ask the Secretary of State for "
            "Defence, what steps he is taking."))
    assert "lords.addressee" in caught.value.errors[0].msg
    question = service.create_question(session, actor=staff, question_in=QuestionCreate(
        campaign_id=campaign.id, chamber=Chamber.commons_written, named_day=True,
        text="To ask the Secretary of State for the Home Department, what assessment she has made of the "
             "visit of Liu Jianchao."))
    assert question.department == "Home Office"
    member = make_member(session, "Tim Loughton", family_name="Loughton", suffix="MP")
    service.update_question(session, question_id=question.id, actor=staff, question_in=QuestionUpdate(
        asking_member_id=member.id, tabled_reference="HL1234", tabled_date=datetime(2026, 11, 24).date()))
    answered = service.update_question(session, question_id=question.id, actor=staff,
                                       question_in=QuestionUpdate(answer_text="The Government keeps this under "
                                                                              "review."))
    assert answered.state.value == "answered" and answered.tabled_reference == "HL1234"


def test_invitations_are_emailed_through_the_outbox_once(session, staff):
    from workers.models import OutboxKind, OutboxMessage

    letter = open_for_signatures(session, make_letter(session, make_campaign(session), actor=staff), staff)
    member = make_member(session, "Sarah Champion", family_name="Champion", prefix="Ms", suffix="MP")
    token = _invite(session, letter, [member], staff)[0].token
    _invite(session, letter, [member], staff)  # invited again: same link, no second e-mail
    messages = session.exec(select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.signing_invitation,
                                                        OutboxMessage.recipient_address == member.email)).all()
    assert len(messages) == 1
    assert f"/sign/{token}" in messages[0].text_body and "Dear Ms Champion," in messages[0].text_body


def test_invitations_can_be_scheduled_to_go_later(session, staff):
    from workers.models import OutboxKind, OutboxMessage

    letter = open_for_signatures(session, make_letter(session, make_campaign(session), actor=staff), staff)
    member = make_member(session, "Sarah Champion", family_name="Champion", prefix="Ms", suffix="MP")
    monday_morning = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    service.invite(session, letter_id=letter.id, actor=staff, invitation_in=InvitationCreate(
        person_ids=[member.id], send_at=monday_morning))
    [message] = session.exec(select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.signing_invitation,
                                                         OutboxMessage.letter_id == letter.id)).all()
    assert message.scheduled_at == monday_morning and message.recipient_address == member.email
