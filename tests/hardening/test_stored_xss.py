"""Stored XSS: script payloads typed into every field that pages show, then each page
opened in Chromium. No script runs, no markup or event handler is injected, no
javascript: link is made, and the payload is shown as the text it is."""

from __future__ import annotations

import json
import re
import secrets

import httpx
import pytest

from campaign.accounts.models import Role
from tests.browser.helpers import sign_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def payload(label: str) -> str:
    """The text, element, attribute-breaking and single-quote payloads at once, marked with the field."""
    return (f"{label}<script>window.__xss='{label}'</script>\"><img src=x onerror=\"window.__xss='{label}'\">"
            f"' onmouseover='window.__xss=1' \" onmouseover=\"window.__xss='{label}'")


def shown(label: str) -> str:
    """What a page must show for a payload: the script tag as text."""
    return f"{label}<script>window.__xss='{label}'</script>"


JS_URL = "javascript:window.__xss='url'"

# Everything a page could do with a payload that got through, found in the DOM (so an injection
# is caught even where the Content-Security-Policy would stop it from running).
FIND_INJECTIONS = """() => {
  const found = [];
  if (window.__xss !== undefined) found.push('script ran: ' + window.__xss);
  for (const el of document.querySelectorAll('*')) {
    if (el.tagName === 'SCRIPT' && el.textContent.includes('__xss')) found.push('script element: ' + el.outerHTML.slice(0, 120));
    if (el.tagName === 'IMG' && el.getAttribute('src') === 'x') found.push('img element: ' + el.outerHTML.slice(0, 120));
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase(), value = attr.value.trim().toLowerCase();
      if (name.startsWith('on') && value.includes('__xss')) found.push('handler: ' + el.outerHTML.slice(0, 120));
      if (['href', 'src', 'action', 'formaction', 'xlink:href', 'data'].includes(name) && value.startsWith('javascript:'))
        found.push('javascript: link: ' + el.outerHTML.slice(0, 120));
    }
  }
  return found;
}"""


def _ok(response: httpx.Response, status: int = 201) -> dict:
    assert response.status_code == status, response.text[:1000]
    return response.json()


def _refused(response: httpx.Response, field: str) -> None:
    assert response.status_code == 422, response.text[:500]
    assert any(field in e["loc"] for e in response.json()["errors"]), response.text[:500]


@pytest.fixture(scope="module")
def hostile(live_cosign, live_user, live_write):
    """A campaign, its asks, events, evidence, people, letter, signature and response, all typed by an attacker."""
    user, token = live_user(Role.admin, name=payload("user-name"))
    api = httpx.Client(base_url=live_cosign.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60)
    tag = secrets.token_hex(3)

    campaign = _ok(api.post("/api/v1/campaigns", json={
        "name": payload("campaign-name")[:200], "slug": f"xss-{tag}", "summary": payload("campaign-summary"),
        "goal": payload("campaign-goal")}))
    cid = campaign["id"]
    ask = _ok(api.post(f"/api/v1/campaigns/{cid}/asks", json={"title": payload("ask-title"),
                                                               "description": payload("ask-description")}))
    _refused(api.post(f"/api/v1/campaigns/{cid}/events", json={
        "kind": "visit", "title": "Visit", "start": "2024-05-01", "sources": [{"title": "x", "url": JS_URL}]}),
        "sources")
    _ok(api.post(f"/api/v1/campaigns/{cid}/events", json={
        "kind": "visit", "title": payload("event-title"), "start": "2024-05-01", "place": payload("event-place")[:300],
        "summary": payload("event-summary"),
        "sources": [{"title": payload("event-source"), "url": "https://example.org/\"onmouseover=\"window.__xss=1"}]}))
    source = {"source_title": payload("evidence-source-title"), "source_author": payload("evidence-author")[:300],
              "source_url": "https://example.org/a?b=\"><script>window.__xss=1</script>",
              "reliability_notes": payload("evidence-reliability")}
    for field in ("source_url", "archive_url"):
        _refused(api.post(f"/api/v1/campaigns/{cid}/evidence", json={
            "slug": f"js-{field.replace('_', '-')}", "kind": "claim", "title": "t", field: JS_URL}), field)
    _ok(api.post(f"/api/v1/campaigns/{cid}/evidence", json={
        "slug": "xss-quote", "kind": "quote", "title": payload("evidence-title"), "text": payload("evidence-text"),
        "data": {"speaker": payload("evidence-speaker")}, "tags": [f"tag-{tag}"], **source}))
    _ok(api.post(f"/api/v1/campaigns/{cid}/evidence", json={
        "slug": "xss-table", "kind": "table", "title": payload("table-title"),
        "data": {"columns": [payload("table-column"), "Returns"],
                 "rows": [[payload("table-row-2017"), 10], [payload("table-row-2018"), 20]]}, **source}))
    _ok(api.post(f"/api/v1/campaigns/{cid}/evidence", json={
        "slug": "xss-figure", "kind": "figure", "title": payload("figure-title"),
        "data": {"value": 1335, "unit": payload("figure-unit")[:80], "as_of": "2018"}, **source}))

    popolo = {"persons": [{"id": f"xss-{tag}", "name": payload(f"person-{tag}"),
                           "other_names": [{"name": payload("person-other-name")}],
                           "contact_details": [{"type": "email", "value": f"xss-{tag}@example.org"},
                                               {"type": "voice", "value": payload("person-phone")},
                                               {"type": "address", "value": payload("person-address")}],
                           "links": [{"note": payload("person-link-note"), "url": JS_URL},
                                     {"note": "site",
                                      "url": "https://example.org/\"><script>window.__xss=1</script>"}]}],
              "organizations": [{"id": "chamber", "name": payload("organisation-name")[:300],
                                 "classification": "chamber"},
                                {"id": "party", "name": payload("party-name")[:300], "classification": "party"}],
              "memberships": [{"person_id": f"xss-{tag}", "organization_id": "chamber", "on_behalf_of_id": "party",
                               "role": payload("membership-role")[:200]}]}
    _ok(api.post("/api/v1/imports", files={"file": ("people.json", json.dumps(popolo).encode(), "application/json")}),
        200)
    person = api.get("/api/v1/people", params={"q": tag}).json()["items"][0]

    from contacts import service as contacts_service
    from contacts.schemas import PersonUpdate

    live_write(lambda s: contacts_service.edit_person(s, person_id=person["id"], actor="tests",
                                                     person_in=PersonUpdate(notes=payload("person-notes"))))
    _refused(api.post(f"/api/v1/people/{person['id']}/stances", json={
        "ask_id": ask["id"], "position": "supportive", "source_kind": "url", "source_url": JS_URL}), "source_url")
    _ok(api.post(f"/api/v1/people/{person['id']}/stances", json={
        "ask_id": ask["id"], "position": "supportive", "source_kind": "note", "source_note": payload("stance-note")}))

    letter = _ok(api.post("/api/v1/letters", json={
        "campaign_id": cid, "title": payload("letter-title"), "subject": payload("letter-subject"),
        "body": payload("letter-body")
        + "\n\n{{ cite('xss-quote') }} {{ cite('xss-table') }} {{ cite('xss-figure') }}\n",
        "addressees": [{"name": payload("addressee")}], "sender_name": payload("sender-name")[:200],
        "sender_organisation": payload("sender-organisation")}))
    for state in ("in_review", "approved", "open_for_signatures"):
        _ok(api.post(f"/api/v1/letters/{letter['id']}/transitions", json={"to": state}), 200)
    link = _ok(api.post(f"/api/v1/letters/{letter['id']}/invitations",
                        json={"person_ids": [person["id"]], "send_email": False}))[0]["link"]
    with httpx.Client(timeout=60, follow_redirects=True) as signer:
        form = signer.get(link).text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        signed = signer.post(link, data={"csrf_token": csrf, "action": "sign", "printed_name": payload("printed-name"),
                                         "printed_title": payload("printed-title")})
        assert "your signature is recorded" in signed.text, signed.text[:500]
    _ok(api.post("/api/v1/responses", json={
        "person_id": person["id"], "letter_id": letter["id"], "kind": "reply", "channel": "email",
        "occurred_date": "2024-06-01", "summary": payload("response-summary")}))
    _ok(api.post("/api/v1/letter-templates", json={
        "slug": f"xss-{tag}", "kind": "open_letter", "name": payload("template-name"),
        "description": payload("template-description"), "subject": payload("template-subject"),
        "body": payload("template-body")}))
    question = _ok(api.post("/api/v1/questions", json={
        "campaign_id": cid, "chamber": "commons_written",
        "text": "To ask the Secretary of State for Foreign, Commonwealth and Development Affairs, what assessment "
                f"he has made of {payload('question-text')}."}))
    segment = _ok(api.post("/api/v1/segments", json={"name": payload("segment-name"),
                                                      "description": payload("segment-description"),
                                                      "filter": {"q": tag}}))
    api.close()
    return {"user": user, "slug": campaign["slug"], "person": person["id"], "letter": letter["id"], "link": link,
            "question": question["id"], "segment": segment["id"], "tag": tag}


def test_no_payload_runs_or_is_injected_on_any_page(live_cosign, page, hostile):
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    base, slug, tag = live_cosign.base_url, hostile["slug"], hostile["tag"]
    sign_in(page, base, email=hostile["user"].email, password=PASSWORD)
    pages = {
        "/campaigns": ["campaign-name", "user-name"],
        f"/campaigns/{slug}": ["campaign-name", "campaign-summary", "campaign-goal", "ask-title", "ask-description",
                               "event-title", "evidence-title", "table-title", "figure-title", "letter-title"],
        f"/campaigns/{slug}/timeline": ["event-title", "event-place", "event-summary", "event-source",
                                        "response-summary"],
        f"/campaigns/{slug}/evidence": ["evidence-title", "table-title", "figure-title", "evidence-source-title",
                                        "evidence-author"],
        f"/campaigns/{slug}/evidence/xss-quote": ["evidence-title", "evidence-text", "evidence-speaker",
                                                  "evidence-source-title", "evidence-author", "evidence-reliability"],
        f"/campaigns/{slug}/evidence/xss-table": ["table-title", "table-row-2017", "table-row-2018"],
        f"/campaigns/{slug}/settings": ["ask-title", "ask-description"],
        f"/campaigns/{slug}/evidence/xss-quote/edit": [],
        f"/people?q={tag}": [f"person-{tag}", "organisation-name", "party-name", "ask-title"],
        f"/people/{hostile['person']}": [f"person-{tag}", "person-other-name", "person-notes", "person-phone",
                                         "person-address", "person-link-note", "membership-role", "stance-note",
                                         "response-summary", "printed-name", "letter-title"],
        f"/people/{hostile['person']}/edit": [],
        "/letters": ["letter-title", "template-name"],
        f"/letters/{hostile['letter']}": ["letter-title", "letter-subject", "letter-body", "addressee",
                                          "sender-organisation", "evidence-title", "evidence-source-title",
                                          "evidence-author", "printed-name", "printed-title"],
        f"/letters/{hostile['letter']}/signatures": [f"person-{tag}", "party-name", "printed-name", "printed-title"],
        "/questions": [],
        f"/questions/{hostile['question']}": ["question-text"],
        "/segments": ["segment-name"],
        f"/segments/{hostile['segment']}": ["segment-name", "segment-description", f"person-{tag}"],
        "/responses": [f"person-{tag}", "response-summary"],
        "/admin/audit": ["user-name"],
        "/admin/users": ["user-name"],
        hostile["link"].removeprefix(base): ["letter-title", "letter-subject", "letter-body", "addressee",
                                             f"person-{tag}", "printed-name", "printed-title",
                                             "evidence-source-title"],
    }
    problems = []
    for path, labels in pages.items():
        answer = page.goto(base + path)
        assert answer is not None and answer.status == 200, (path, answer and answer.status)
        found = page.evaluate(FIND_INJECTIONS)
        text = page.inner_text("body")
        missing = [label for label in labels if shown(label) not in text]
        if found or missing:
            problems.append((path, found, missing))
    # Form fields give the payload back as their value, not as markup.
    page.goto(f"{base}/campaigns/{slug}/settings")
    assert page.locator("[name=summary]").input_value() == payload("campaign-summary")
    assert "onmouseover" not in {a for el in page.locator("input, textarea").all() for a in
                                 el.evaluate("e => e.getAttributeNames()")}
    assert not dialogs, dialogs
    assert not problems, "\n".join(f"{path}: injected {found}; payload not shown as text: {missing}"
                                   for path, found, missing in problems)
