"""The dashboard's "responses this week" and "follow-ups due" cards count the real rows."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlmodel import select

from campaign import service as campaign_service
from campaign.accounts.models import Role
from campaign.db import utcnow
from letters import followups, responses
from letters import service as letters_service
from letters.models import FollowUpAction, FollowUpSource, SigningInvitation
from letters.schemas import InvitationCreate
from tests.factories import login, make_user, page_csrf
from tests.letters.factories import make_campaign, make_letter, make_member, open_for_signatures


def _figure(html: str, element_id: str) -> int:
    return int(re.search(rf'id="{element_id}">(\d+)<', html).group(1))


def test_logging_a_response_moves_the_dashboard_figures(client, session):
    staff = make_user(session, role=Role.staff)
    campaign = make_campaign(session)
    member = make_member(session, "Sarah Champion", family_name="Champion")
    letter = open_for_signatures(session, make_letter(session, campaign), staff)
    letters_service.invite(session, letter_id=letter.id, actor=staff,
                           invitation_in=InvitationCreate(person_ids=[member.id], send_email=False))
    # The invitation went out ten days ago and the campaign chases after seven.
    for invitation in session.exec(select(SigningInvitation).where(SigningInvitation.letter_id == letter.id)):
        invitation.created_at = utcnow() - timedelta(days=10)
    followups.set_rule(session, campaign_id=campaign.id, actor=staff, rule_in=followups.FollowUpRuleIn(
        applies_to=FollowUpSource.signing_invitation, days=7, action=FollowUpAction.remind_owner))
    assert len(followups.scan_followups(session)) == 1
    volunteer = make_user(session, role=Role.volunteer, name="Val Unteer")
    session.commit()

    login(client, volunteer)
    before = client.get(f"/campaigns/{campaign.slug}").text
    assert _figure(before, "responses-this-week") == 0
    assert _figure(before, "followups-due") == 1
    assert "Sarah Champion</a>: reminder" in before
    assert "Nothing logged in the last seven days" in before

    logged = client.post("/responses/new", data={
        "csrf_token": page_csrf(client, "/responses/new"), "person_id": str(member.id), "letter_id": str(letter.id),
        "kind": "reply", "channel": "email", "occurred_date": utcnow().date().isoformat(),
        "summary": "Will raise it with the Foreign Secretary."})
    assert logged.status_code == 303, logged.text

    after = client.get(f"/campaigns/{campaign.slug}").text
    assert _figure(after, "responses-this-week") == 1
    assert _figure(after, "followups-due") == 0
    assert "Sarah Champion</a>: reply by email" in after
    assert "Nobody to chase" in after


def test_responses_older_than_a_week_are_not_counted(session):
    staff = make_user(session, role=Role.staff)
    campaign = make_campaign(session)
    member = make_member(session, "Alistair Carmichael", family_name="Carmichael", party="Liberal Democrat")
    for days_ago in (0, 6, 7, 30):
        responses.log_response(session, actor=staff, response_in=responses.ResponseCreate(
            person_id=member.id, campaign_id=campaign.id, kind="reply", channel="email",
            occurred_date=campaign_service.campaign_today(campaign) - timedelta(days=days_ago)))
    board = campaign_service.dashboard(session, campaign_id=campaign.id)
    assert board.responses_this_week == 2
    assert [line.response.occurred_date for line in board.recent_responses] == sorted(
        (line.response.occurred_date for line in board.recent_responses), reverse=True)


def test_the_settings_page_summarises_the_follow_up_rules_and_links_to_them(client, session):
    campaign = make_campaign(session)
    staff = make_user(session, role=Role.staff)
    followups.set_rule(session, campaign_id=campaign.id, actor=staff, rule_in=followups.FollowUpRuleIn(
        applies_to="signing_invitation", days=5, action="queue_chaser"))
    login(client, staff)
    page = client.get(f"/campaigns/{campaign.slug}/settings").text
    assert "Signing invitations: after 5 days, prepare a chaser for approval" in page
    assert "Sent letters: not followed up" in page
    assert f'href="/follow-ups?campaign_id={campaign.id}#rules"' in page
