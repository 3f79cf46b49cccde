"""Tables sort and filter from the address: the campaign list, the evidence library, the letters, the signatures."""

from __future__ import annotations

import re

from campaign.accounts.models import Role
from letters import service as letters_service
from letters.schemas import InvitationCreate
from tests.campaign.factories import make_campaign as make_plain_campaign
from tests.factories import login, make_user
from tests.letters.factories import make_campaign, make_letter, make_member, open_for_signatures


def _rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in body.split("</tr>") if "<td" in row]


def test_campaigns_filter_by_status_and_sort_by_name(client, session):
    make_plain_campaign(session, name="Zeta campaign", status="active")
    make_plain_campaign(session, name="Alpha campaign", status="paused")
    login(client, make_user(session, role=Role.volunteer))
    assert [row.split(" ")[0] for row in _rows(client.get("/campaigns?sort=name").text)][:2] == ["Alpha", "Zeta"]
    paused = client.get("/campaigns?status=paused").text
    assert "Alpha campaign" in paused and "Zeta campaign" not in paused


def test_evidence_sorts_by_kind_keeping_the_search(client, session):
    campaign = make_campaign(session)  # a claim (liu-command) and a figure (skynet-returns)
    login(client, make_user(session, role=Role.coordinator))
    by_kind = client.get(f"/campaigns/{campaign.slug}/evidence?sort=kind").text
    assert by_kind.index("liu-command") < by_kind.index("skynet-returns")  # claim before figure
    assert 'href="?sort=title"' in by_kind


def test_signatures_filter_by_answer_and_letters_by_state(client, session):
    staff = make_user(session, role=Role.staff)
    campaign = make_campaign(session)
    signer = make_member(session, "Ada Fenwick", family_name="Fenwick")
    silent = make_member(session, "Bilal Qureshi", family_name="Qureshi", party="Conservative")
    letter = open_for_signatures(session, make_letter(session, campaign), staff)
    letters_service.invite(session, letter_id=letter.id, actor=staff,
                           invitation_in=InvitationCreate(person_ids=[signer.id, silent.id], send_email=False))
    session.commit()
    login(client, make_user(session, role=Role.coordinator))
    page = client.get(f"/letters/{letter.id}/signatures?answer=no_answer").text
    assert "Bilal Qureshi" in page and "Ada Fenwick" in page  # nobody has answered yet
    assert 'id="count-no-answer">2<' in page
    signed = client.get(f"/letters/{letter.id}/signatures?answer=signed").text
    assert "Nobody has answered “Signed”" in signed
    assert "Letter to the Prime Minister" in client.get("/letters?state=open_for_signatures").text
    assert "No letters match" in client.get("/letters?state=sent").text
