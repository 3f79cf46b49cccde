"""The three journeys of the design brief, walked in Chromium by the user of each role.

Against `campaign serve` (web, worker, beat). The background a journey needs but no user
types (accounts, a small directory of parliamentarians, a segment) is made through the API
first; every step a user takes is taken in the browser. The journeys follow one letter, so
they run in order: staff draft and open it (1), signers and the coordinator gather
signatures and staff send it (2), a volunteer logs the reply it brings (3).
"""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests import live
from tests.browser.helpers import mailed, signed_in_page, signing_link

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "journey password 2026"
DOMAIN = "journey.example.org"
CAMPAIGN = "Stop the London visit"
ASK = "Refuse the official's visit to London"
LETTER = "Letter to the Foreign Secretary on the visit"
EVIDENCE_SLUG = "skynet-returns-2018"
# Six members of two chambers, who will be invited to co-sign, and the addressee. Fictional people.
DIRECTORY = f"""name,family_name,honorific_suffix,email,organization,party,country,tags
Ada Fenwick,Fenwick,MP,ada.fenwick@{DOMAIN},House of Commons,Labour,GB,journey-signer
Bilal Qureshi,Qureshi,MP,bilal.qureshi@{DOMAIN},House of Commons,Conservative,GB,journey-signer
Catriona Munro,Munro,MP,catriona.munro@{DOMAIN},House of Commons,Scottish National Party,GB,journey-signer
Dafydd Pryce,Pryce,MP,dafydd.pryce@{DOMAIN},House of Commons,Liberal Democrat,GB,journey-signer
Lord Elwood,Elwood,,lord.elwood@{DOMAIN},House of Lords,Crossbench,GB,journey-signer
Baroness Farrant,Farrant,,baroness.farrant@{DOMAIN},House of Lords,Conservative,GB,journey-signer
Gideon Hale,Hale,MP,gideon.hale@{DOMAIN},House of Commons,Labour,GB,journey-addressee
"""
USERS = {"staff": ("sam.staff", "Sam Staff"), "reviewer": ("rita.reviewer", "Rita Reviewer"),
         "coordinator": ("cora.coordinator", "Cora Coordinator"), "volunteer": ("vic.volunteer", "Vic Volunteer")}


def _email(key: str) -> str:
    return f"{USERS[key][0]}@{DOMAIN}"


@pytest.fixture(scope="module")
def world(live_cosign):
    """Accounts, the directory and the segment; what the journeys learn is added as they go."""
    token = live_cosign.cli("tokens", "create", live.ADMIN_EMAIL, "--name", "journeys").stdout.split()[-1]
    api = httpx.Client(base_url=live_cosign.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60)
    for key, (local, name) in USERS.items():
        role = "staff" if key == "reviewer" else key
        made = api.post("/api/v1/users", json={"email": _email(key), "role": role, "password": PASSWORD, "name": name})
        assert made.status_code == 201, made.text
    imported = api.post("/api/v1/imports", data={"format": "csv"},
                        files={"file": ("journey.csv", io.BytesIO(DIRECTORY.encode()), "text/csv")})
    assert imported.status_code == 200 and imported.json()["created"] == 7, imported.text
    segment = api.post("/api/v1/segments", json={"name": "Journey co-signers",
                                                 "filter": {"tag": ["journey-signer"]}})
    assert segment.status_code == 201, segment.text
    people = {p["name"]: p for p in api.get("/api/v1/people", params={"tag": "journey-signer"}).json()["items"]}
    assert len(people) == 6, people
    hale = api.get("/api/v1/people", params={"tag": "journey-addressee"}).json()["items"][0]
    state = {"api": api, "people": people, "hale": hale, "instance": live_cosign, "base": live_cosign.base_url,
             "pages": {}}
    yield state
    api.close()
    for tab in state["pages"].values():
        tab.context.close()


def _page(world, browser, key: str, **size):
    """One signed-in browser per user, kept across the journeys (as a user keeps their tab)."""
    if key not in world["pages"]:
        world["pages"][key] = signed_in_page(browser, world["base"], _email(key), PASSWORD, **size)
    return world["pages"][key]


def _after_journey(world, number: int) -> None:
    if world.get("done", 0) < number:
        pytest.fail(f"journey {number} did not complete, and this one continues its letter: run the module whole")


def _shot(page, screenshot_dir: Path, name: str) -> None:
    page.screenshot(path=str(screenshot_dir / f"{name}.png"), full_page=True)


def _flash(page) -> str:
    """The message the page shows after a step (the flash), or the page itself when there is none."""
    try:
        return page.get_by_role("status").first.inner_text(timeout=10_000)
    except Exception:
        raise AssertionError(f"no message on {page.url}:\n{page.locator('main').inner_text()[:3000]}") from None


def test_journey_1_staff_draft_a_cited_letter_get_it_approved_and_invite_signers(world, browser, screenshot_dir):
    base = world["base"]
    staff = _page(world, browser, "staff")

    # A new campaign, from the campaign list.
    staff.goto(f"{base}/campaigns")
    staff.get_by_label("Name (required)").fill(CAMPAIGN)
    staff.get_by_label("Summary").fill("A senior official who directed Sky Net operations is due in London. "
                                       "We ask the government to refuse the visit.")
    staff.get_by_role("button", name="Create the campaign").click()
    staff.wait_for_url(f"{base}/campaigns/stop-the-london-visit")
    assert _flash(staff) == f"Created the campaign {CAMPAIGN}."
    _shot(staff, screenshot_dir, "journey1-new-campaign-dashboard")

    # Its ask, then a figure from the dossier with its source.
    staff.get_by_role("link", name="Settings and asks").click()
    staff.get_by_label("What do we ask?").fill(ASK)
    staff.get_by_role("button", name="Add the ask").click()
    assert _flash(staff) == f"Added the ask {ASK}."
    _shot(staff, screenshot_dir, "journey1-campaign-settings")
    # Letters that get no answer in two days are followed up.
    staff.get_by_role("link", name="Change when to follow up").click()
    rule = staff.get_by_role("form", name="Sent letters")
    rule.get_by_label("Follow these up").check()
    rule.get_by_label("After how many days without a response").fill("2")
    rule.get_by_role("button", name="Save").click()
    assert _flash(staff) == "Follow-ups on sent letters: after 2 days."
    _shot(staff, screenshot_dir, "journey1-follow-up-rules")
    staff.goto(f"{base}/campaigns/stop-the-london-visit/evidence/new")
    staff.get_by_label("Slug (how letters cite it)").fill(EVIDENCE_SLUG)
    staff.get_by_label("Kind").select_option("table")
    assert staff.get_by_label("Columns").is_visible() and not staff.get_by_label("Value").is_visible()
    staff.get_by_label("Kind").select_option("figure")  # the form shows the fields of the kind chosen
    staff.locator("#f-title").fill("People returned to China under Sky Net in 2018")
    staff.get_by_label("Value").fill("1335")
    staff.get_by_label("Unit").fill("people")
    staff.get_by_label("As of").fill("2018")
    staff.locator("#f-source_title").fill("Involuntary Returns")
    staff.get_by_label("Author or publisher").fill("Safeguard Defenders")
    staff.locator("#f-source_date").fill("2022-01-18")
    staff.get_by_label("Tags").fill("headline, sky-net")
    _shot(staff, screenshot_dir, "journey1-evidence-form")
    staff.get_by_role("button", name="Add the item").click()
    staff.wait_for_url(f"**/evidence/{EVIDENCE_SLUG}")
    assert staff.get_by_text("1,335", exact=True).first.is_visible()
    _shot(staff, screenshot_dir, "journey1-evidence-item")

    # A draft from the head-of-government template, to the Foreign Secretary.
    staff.goto(f"{base}/letters")
    _shot(staff, screenshot_dir, "journey1-letters-list")
    staff.get_by_label("Title", exact=True).fill(LETTER)
    staff.get_by_label("Campaign", exact=True).select_option(label=CAMPAIGN)
    staff.get_by_label("Template").select_option(label="Letter to a head of government")
    staff.get_by_role("button", name="Create draft").click()
    staff.wait_for_url(f"{base}/letters/*")
    letter_id = int(staff.url.rsplit("/", 1)[1])
    world["letter_id"] = letter_id
    # The letter page has no addressee editor yet: the addressee is set through the API.
    letter = world["api"].get(f"/api/v1/letters/{letter_id}").json()
    world["campaign_id"] = letter["campaign_id"]
    patched = world["api"].patch(f"/api/v1/letters/{letter_id}", json={
        "version": letter["version"], "addressees": [{"person_id": world["hale"]["id"],
                                                      "office": "Secretary of State for Foreign Affairs"}]})
    assert patched.status_code == 200, patched.text
    staff.reload()
    staff.locator("#edit-body").fill(
        "{{ recipient.salutation }},\n\nWe write as a cross-party group of parliamentarians about "
        "{{ campaign.name }}.\n\nIn 2018 alone, 1,335 people were returned to China under Sky Net"
        '{{ cite("' + EVIDENCE_SLUG + '") }}. We ask you to refuse the visit.\n\nYours sincerely,')
    staff.get_by_label("What changed").fill("Cite the Sky Net figure")
    staff.get_by_role("button", name="Save a new version").click()
    assert _flash(staff) == "Saved a new version."
    preview = staff.locator(".letters-preview")
    assert "returned to China under Sky Net" in preview.inner_text()
    assert "Involuntary Returns" in preview.locator(".notes").inner_text()  # the numbered footnote's source
    _shot(staff, screenshot_dir, "journey1-letter-draft")
    staff.get_by_role("button", name="Send for review").click()
    assert _flash(staff) == "The letter is now in review."

    # A second member of staff approves it and opens it for signatures.
    reviewer = _page(world, browser, "reviewer")
    reviewer.goto(f"{base}/letters/{letter_id}")
    reviewer.get_by_role("button", name="Approve").click()
    assert _flash(reviewer) == "The letter is now approved."
    reviewer.get_by_role("button", name="Open for signatures").click()
    assert _flash(reviewer) == "The letter is now open for signatures."

    # The segment of co-signers is invited: one personal link each.
    staff.goto(f"{base}/letters/{letter_id}/signatures")
    staff.get_by_label("A segment").select_option(label="Journey co-signers")
    staff.get_by_role("button", name="Create personal links").click()
    assert _flash(staff) == "Invited 6 people; their links are below."
    assert staff.locator("#count-no-answer").inner_text() == "6"
    _shot(staff, screenshot_dir, "journey1-signatures-invited")
    world["done"] = 1


def test_journey_2_signers_answer_and_the_coordinator_closes_signing_and_staff_send(world, browser, screenshot_dir):
    _after_journey(world, 1)
    base, letter_id, people = world["base"], world["letter_id"], world["people"]
    coordinator = _page(world, browser, "coordinator")
    coordinator.goto(f"{base}/letters/{letter_id}/signatures")
    assert coordinator.locator("#count-signed").inner_text() == "0"

    # Three signers open the link in their invitation e-mail: two sign (one on a phone), one declines.
    signer = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    for name, action, title in (("Ada Fenwick", "Sign the letter", "Chair, All-Party Group on Hong Kong"),
                                ("Lord Elwood", "Sign the letter", ""), ("Bilal Qureshi", "Decline", "")):
        signer.goto(signing_link(mailed(world["instance"], people[name]["email"])))
        if title:
            signer.get_by_label("Your title or role, printed under your name (optional)").fill(title)
        signer.get_by_role("button", name=action).click()
        signer.wait_for_load_state()
        assert "Thank you" in signer.get_by_role("status").first.inner_text()
        if name == "Ada Fenwick":
            _shot(signer, screenshot_dir, "journey2-signer-phone-signed")
    signer.context.close()

    # The coordinator sees the answers by party and chamber, and chases the rest.
    coordinator.reload()
    assert coordinator.locator("#count-signed").inner_text() == "2"
    assert coordinator.locator("#count-declined").inner_text() == "1"
    assert coordinator.locator("#count-no-answer").inner_text() == "3"
    by_party = coordinator.get_by_role("region", name="By party").inner_text()
    by_chamber = coordinator.get_by_role("region", name="By chamber").inner_text()
    assert "Labour: 1" in by_party and "Crossbench: 1" in by_party
    assert "House of Commons: 1" in by_chamber and "House of Lords: 1" in by_chamber
    _shot(coordinator, screenshot_dir, "journey2-coordinator-signatures")
    coordinator.get_by_role("button", name="Mark them as chased").click()
    assert _flash(coordinator) == "Marked 3 people as chased."

    # Signing closes; the PDF carries the signatories.
    coordinator.goto(f"{base}/letters/{letter_id}")
    coordinator.get_by_role("button", name="Close signing").click()
    assert _flash(coordinator) == "The letter is now signatures closed."
    pdf = coordinator.request.get(base + coordinator.get_by_role("link", name="PDF").get_attribute("href"))
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")
    from pypdf import PdfReader

    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.body())).pages)
    assert "Ada Fenwick" in text and "Elwood" in text and "Qureshi" not in text

    # Staff schedule the send; the worker delivers it to the addressee with the PDF.
    staff = _page(world, browser, "staff")
    staff.goto(f"{base}/letters/{letter_id}")
    now = datetime.now(ZoneInfo("Europe/London"))  # the campaign's time zone, as the form asks
    staff.get_by_label("Send at").fill(now.strftime("%Y-%m-%dT%H:%M"))
    staff.get_by_role("button", name="Schedule the send").click()
    assert "cheduled" in _flash(staff)
    assert world["hale"]["email"] in staff.content()  # the outbox row, on the letter page
    _shot(staff, screenshot_dir, "journey2-letter-scheduled")
    message = mailed(world["instance"], world["hale"]["email"], subject=CAMPAIGN, timeout=90)
    attachments = [part for part in message.iter_attachments() if part.get_content_type() == "application/pdf"]
    assert len(attachments) == 1 and attachments[0].get_content().startswith(b"%PDF")
    for _ in range(60):
        staff.reload()
        if staff.locator("h1 .letters-state").inner_text().strip().lower() == "sent":
            break
        staff.wait_for_timeout(500)
    assert staff.locator("h1 .letters-state").inner_text().strip().lower() == "sent"
    _shot(staff, screenshot_dir, "journey2-letter-sent")
    world["done"] = 2


def _open_a_follow_up(world, live_cosign) -> None:
    """Time passes: the letter went out three days ago, past the two days of the campaign's rule (journey 1)."""
    code = f"""
from datetime import timedelta
from campaign.db import session_scope, utcnow
from letters import followups
from letters.models import Letter
with session_scope() as session:
    letter = session.get(Letter, {world['letter_id']})
    letter.sent_at = utcnow() - timedelta(days=3)
    print(len([f for f in followups.scan_followups(session) if f.letter_id == letter.id]))
"""
    done = subprocess.run([sys.executable, "-c", code], env=live_cosign.env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "1", done.stderr


def test_journey_3_a_volunteer_logs_the_reply_on_a_phone_and_the_follow_up_closes(world, browser, live_cosign,
                                                                                  screenshot_dir):
    _after_journey(world, 2)
    base, hale = world["base"], world["hale"]
    _open_a_follow_up(world, live_cosign)
    volunteer = _page(world, browser, "volunteer", width=390, height=844)
    volunteer.goto(f"{base}/campaigns/stop-the-london-visit")
    assert volunteer.locator("#followups-due").inner_text() == "1"
    assert volunteer.locator("#responses-this-week").inner_text() == "0"

    volunteer.goto(f"{base}/people/{hale['id']}")
    volunteer.get_by_role("link", name="Log a response from Gideon Hale").click()
    volunteer.get_by_label("Letter", exact=True).select_option(label=LETTER)
    volunteer.get_by_label("Kind").select_option(label="Reply")
    volunteer.get_by_label("Channel").select_option(label="Letter")
    volunteer.get_by_label("Summary").fill("Replied: will raise the visit with the Home Office and supports refusing it.")
    volunteer.get_by_label("Ask").select_option(label=ASK)
    volunteer.get_by_label("New position").select_option("supportive")
    _shot(volunteer, screenshot_dir, "journey3-volunteer-phone-log-response")
    volunteer.get_by_role("button", name="Log response").click()
    volunteer.wait_for_url(f"{base}/responses?person_id={hale['id']}")
    assert _flash(volunteer) == "Response logged."

    # The person's page shows the new stance with the response as its source.
    volunteer.goto(f"{base}/people/{hale['id']}")
    assert volunteer.get_by_role("heading", name=f"{ASK}: supportive").is_visible()
    assert "response #" in volunteer.content()
    _shot(volunteer, screenshot_dir, "journey3-person-stance")
    # The dashboard counts the reply, and the follow-up it answered has closed.
    volunteer.goto(f"{base}/campaigns/stop-the-london-visit")
    assert volunteer.locator("#responses-this-week").inner_text() == "1"
    assert volunteer.locator("#followups-due").inner_text() == "0"
    assert "Gideon Hale" in volunteer.get_by_role("region", name="Responses this week").inner_text()
    _shot(volunteer, screenshot_dir, "journey3-dashboard-phone")
    closed = world["api"].get("/api/v1/follow-ups", params={"status": "closed", "person_id": hale["id"]}).json()
    assert [item["letter_id"] for item in closed] == [world["letter_id"]]


def test_the_admin_finds_the_set_up_page_in_the_navigation(live_cosign, page, screenshot_dir):
    from tests.browser.helpers import sign_in

    sign_in(page, live_cosign.base_url)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Set up").click()
    page.wait_for_url(f"{live_cosign.base_url}/first-run")
    assert page.get_by_role("heading", name="Set up Cosign").is_visible()
    assert page.get_by_role("button", name="Import the UK House of Commons").is_visible()
    assert "MAIL_BACKEND" in page.locator("#mail").inner_text()
    _shot(page, screenshot_dir, "first-run")
