"""Campaign pages as a browser uses them: the dashboard, the timeline, the evidence library."""

from __future__ import annotations

import re

from campaign import demo, service
from campaign.accounts.models import Role
from tests.campaign.factories import make_ask, make_campaign, make_event, make_evidence
from tests.factories import login, make_user, page_csrf


def _signed_in(client, session, role: Role = Role.staff):
    user = make_user(session, role=role, name=f"Test {role.value}")
    login(client, user)
    return user


def test_home_lists_the_campaigns(client, session):
    campaign = make_campaign(session, name="Stop the visit", status="active")
    _signed_in(client, session, Role.volunteer)
    home = client.get("/")
    assert home.status_code == 200 and "Welcome, Test volunteer" in home.text
    assert f'href="/campaigns/{campaign.slug}"' in home.text


def test_the_demo_dashboard_shows_figures_charts_timeline_and_placeholders(client, session):
    demo.load(session)
    session.commit()
    _signed_in(client, session, Role.coordinator)
    page = client.get(f"/campaigns/{demo.CAMPAIGN_SLUG}")
    assert page.status_code == 200
    html = page.text
    assert "Stop the visit: accountability for China" in html
    # Key figures from the documents.
    for figure in ("1,335", "12,193", "9,933", "64%"):
        assert figure in html
    # Stance charts by chamber and by party, drawn on the server.
    assert html.count('<svg class="chart chart-stances"') == 2
    assert "Refuse the visit: stances by chamber" in html and "Refuse the visit: stances by party" in html
    assert "House of Commons: 3 champion" in html and "House of Lords: 1 champion" in html
    assert "Crossbench: 1 champion" in html
    assert "No stances recorded on this ask yet." in html
    # The returns per year, charted from the evidence table.
    assert html.count('<svg class="chart chart-columns"') == 2
    assert "2019: 2,041" in html
    # The timeline and recent evidence.
    assert "August 2025" in html and "Liu Jianchao taken away for questioning" in html
    assert "All 18 events" in html and "All 28 evidence items" in html
    # The demo letter and its signatures; responses and follow-ups arrive with the follow-up work.
    assert "Letter to the Prime Minister" in html or "/letters/" in html
    assert "4 signed" in html
    assert html.count("No letters yet") == 0
    # A coordinator reads; the editing links are for staff.
    assert "/settings" not in html and "Add an event" not in html


def test_staff_add_an_event_from_the_timeline(client, session):
    campaign = make_campaign(session)
    _signed_in(client, session)
    token = page_csrf(client, f"/campaigns/{campaign.slug}/timeline")
    response = client.post(f"/campaigns/{campaign.slug}/timeline", data={
        "csrf_token": token, "kind": "resolution", "title": "European Parliament urgency resolution",
        "start": "2022-06-09", "place": "European Parliament", "source_title": "Safeguard Defenders"})
    assert response.status_code == 303
    page = client.get(response.headers["location"])
    assert "Added the event European Parliament urgency resolution." in page.text
    assert "9 June 2022" in page.text and "European Parliament urgency resolution" in page.text


def test_a_31_february_event_comes_back_with_the_error_beside_the_field(client, session):
    campaign = make_campaign(session)
    _signed_in(client, session)
    token = page_csrf(client, f"/campaigns/{campaign.slug}/timeline")
    response = client.post(f"/campaigns/{campaign.slug}/timeline", data={
        "csrf_token": token, "kind": "visit", "title": "Visit to London", "start": "2023-02-31",
        "source_url": "not a url"})
    assert response.status_code == 422
    assert 'id="ev-start-error">2023-02-31 is not a date: February 2023 has 28 days.</p>' in response.text
    assert 'id="ev-source_url-error">' in response.text
    assert 'value="Visit to London"' in response.text and 'value="2023-02-31"' in response.text
    assert service.list_events(session, campaign_id=campaign.id) == []


def test_an_event_names_the_people_and_organisations_involved_from_the_directory(client, session):
    from contacts import service as contacts_service
    from contacts.models import OrgClassification

    campaign = make_campaign(session)
    liu = contacts_service.upsert_person(session, name="Liu Jianchao", identifiers={"test": "liu"})
    contacts_service.upsert_person(session, name="Sarah Champion", identifiers={"test": "champion-1"})
    contacts_service.upsert_person(session, name="Sarah Champion", identifiers={"test": "champion-2"})
    chatham = contacts_service.get_or_create_organization(session, name="Chatham House",
                                                          classification=OrgClassification.ngo)
    _signed_in(client, session)
    url = f"/campaigns/{campaign.slug}/timeline"
    token = page_csrf(client, url)
    refused = client.post(url, data={"csrf_token": token, "kind": "visit", "title": "Speech in London",
                                     "start": "2024", "people": "liu jianchao, Sarah Champion, Nobody Known",
                                     "organisations": "Chatham House"})
    assert refused.status_code == 422
    assert "more than one person is called “Sarah Champion”" in refused.text
    assert "no one called “Nobody Known” in the directory" in refused.text and 'id="ev-people-error"' in refused.text
    assert 'value="liu jianchao, Sarah Champion, Nobody Known"' in refused.text
    assert service.list_events(session, campaign_id=campaign.id) == []
    added = client.post(url, data={"csrf_token": token, "kind": "visit", "title": "Speech in London",
                                   "start": "2024", "people": "Liu Jianchao", "organisations": "chatham house"})
    assert added.status_code == 303
    [event] = service.list_events(session, campaign_id=campaign.id)
    view = service.event_views(session, [event])[0]
    assert [p.id for p in view.people] == [liu.id] and [o.id for o in view.organizations] == [chatham.id]


def test_the_timeline_filters_by_kind_and_period(client, session):
    campaign = make_campaign(session)
    make_event(session, campaign, kind="resolution", title="EP resolution", start="2022-06-09")
    make_event(session, campaign, kind="court_ruling", title="Liu v. Poland", start="2022-10")
    make_event(session, campaign, kind="report", title="Involuntary Returns", start="2022-01-18")
    _signed_in(client, session, Role.volunteer)
    url = f"/campaigns/{campaign.slug}/timeline"
    by_kind = client.get(url, params={"kind": ["court_ruling", "report"]}).text
    assert "Liu v. Poland" in by_kind and "Involuntary Returns" in by_kind and "EP resolution" not in by_kind
    by_period = client.get(url, params={"date_from": "2022-06", "date_to": "2022-06"}).text
    assert "EP resolution" in by_period and "Liu v. Poland" not in by_period
    bad = client.get(url, params={"date_from": "2022-02-30"})
    assert bad.status_code == 200 and "February 2022 has 28 days" in bad.text
    assert "Add an event" not in by_kind  # volunteers read only


def test_coordinators_cannot_post_events_or_evidence(client, session):
    campaign = make_campaign(session)
    _signed_in(client, session, Role.coordinator)
    token = page_csrf(client, f"/campaigns/{campaign.slug}/timeline")
    for path, data in [(f"/campaigns/{campaign.slug}/timeline", {"kind": "visit", "title": "X", "start": "2023"}),
                       (f"/campaigns/{campaign.slug}/evidence", {"slug": "x", "kind": "claim", "title": "X"}),
                       ("/campaigns", {"name": "Mine"})]:
        assert client.post(path, data={**data, "csrf_token": token}).status_code == 403
    assert client.get(f"/campaigns/{campaign.slug}/evidence/new").status_code == 403
    assert service.list_events(session, campaign_id=campaign.id) == []


def test_staff_add_a_table_and_a_bad_row_is_shown_beside_the_rows(client, session):
    campaign = make_campaign(session)
    _signed_in(client, session)
    token = page_csrf(client, f"/campaigns/{campaign.slug}/evidence/new")
    form = {"csrf_token": token, "slug": "skynet-returns-per-year", "kind": "table", "title": "Returns per year",
            "table_columns": "Year | Successful returns | Suspected irregular",
            "table_rows": "2014 | 680 | 435\n2015 | 1023\n", "source_title": "Liu Jianchao - caught by his own investigators",
            "source_author": "Safeguard Defenders", "tags": "sky-net, headline"}
    refused = client.post(f"/campaigns/{campaign.slug}/evidence", data=form)
    assert refused.status_code == 422
    assert re.search(r'id="f-table_rows-error">Row 2 has 2 cells but the table has 3 columns', refused.text)
    assert "2015 | 1023" in refused.text  # what was typed comes back
    form["table_rows"] = "2014 | 680 | 435\n2015 | 1023 | 655\n"
    created = client.post(f"/campaigns/{campaign.slug}/evidence", data=form)
    assert created.status_code == 303
    item = client.get(created.headers["location"]).text
    assert "1,023" in item and 'class="chart chart-columns"' in item
    evidence = service.get_evidence_by_slug(session, campaign_id=campaign.id, slug="skynet-returns-per-year")
    assert evidence.data["rows"] == [[2014, 680, 435], [2015, 1023, 655]]
    assert evidence.tags == ["sky-net", "headline"]


def test_editing_evidence_on_its_page_keeps_the_old_version_readable(client, session):
    campaign = make_campaign(session)
    evidence = make_evidence(session, campaign, slug="quote-liu-liuzhi", kind="quote", title="Liu on liuzhi",
                             text="These are not criminal or judicial arrests.", data={"speaker": "Liu Jianchao"})
    _signed_in(client, session)
    edit_url = f"/campaigns/{campaign.slug}/evidence/{evidence.slug}/edit"
    form = client.get(edit_url)
    assert 'value="Liu Jianchao"' in form.text
    response = client.post(edit_url, data={
        "csrf_token": page_csrf(client, edit_url), "slug": "quote-liu-liuzhi", "kind": "quote",
        "title": "Liu on liuzhi", "text": "These are not criminal or judicial arrests and they are more effective.",
        "speaker": "Liu Jianchao", "change_note": "full sentence", "tags": "liuzhi"})
    assert response.status_code == 303
    page = client.get(response.headers["location"]).text
    assert "now at version 2" in page and "they are more effective" in page
    assert "full sentence" in page and "Version 1" in page
    old = client.get(f"/campaigns/{campaign.slug}/evidence/{evidence.slug}/versions/1").text
    assert "You are reading version 1 of 2" in old
    assert "These are not criminal or judicial arrests.”" in old and "more effective" not in old


def test_the_library_searches_and_filters(client, session):
    campaign = make_campaign(session)
    make_evidence(session, campaign, slug="liuzhi-total", title="Liuzhi total", data={"value": 12193},
                  tags=["liuzhi"])
    make_evidence(session, campaign, slug="kite", kind="quote", title="The kite", text="A fugitive is like a kite.",
                  tags=["quote"])
    _signed_in(client, session, Role.volunteer)
    url = f"/campaigns/{campaign.slug}/evidence"
    assert "1 item" in client.get(url, params={"q": "fugitive"}).text
    tagged = client.get(url, params={"tag": "liuzhi"}).text
    assert "Liuzhi total" in tagged and "The kite" not in tagged
    quotes = client.get(url, params={"kind": "quote"}).text
    assert "The kite" in quotes and "Liuzhi total" not in quotes
    assert "Add an evidence item" not in quotes


def test_staff_create_a_campaign_then_set_it_up(client, session):
    _signed_in(client, session)
    token = page_csrf(client, "/campaigns")
    bad = client.post("/campaigns", data={"csrf_token": token, "name": "", "timezone": "Mars/Olympus"})
    assert bad.status_code == 422 and 'id="new-name-error"' in bad.text
    created = client.post("/campaigns", data={"csrf_token": token, "name": "Stop the visit", "status": "active",
                                              "timezone": "Europe/London"})
    assert created.status_code == 303 and created.headers["location"] == "/campaigns/stop-the-visit"
    settings = "/campaigns/stop-the-visit/settings"
    token = page_csrf(client, settings)
    for title in ("Refuse the visit", "Suspend the extradition treaties"):
        assert client.post("/campaigns/stop-the-visit/asks", data={"csrf_token": token, "title": title}).status_code == 303
    campaign = service.get_campaign_by_slug(session, slug="stop-the-visit")
    second = service.list_asks(session, campaign_id=campaign.id)[1]
    moved = client.post(f"/campaigns/stop-the-visit/asks/{second.id}/move", data={"csrf_token": token,
                                                                                   "direction": "up"})
    assert moved.status_code == 303
    assert [a.title for a in service.list_asks(session, campaign_id=campaign.id)] == [
        "Suspend the extradition treaties", "Refuse the visit"]
    refused = client.post(settings, data={"csrf_token": token, "name": "Stop the visit", "slug": "stop-the-visit",
                                          "status": "active", "timezone": "Nowhere/Land"})
    assert refused.status_code == 422 and "is not a time zone" in refused.text
    saved = client.post(settings, data={"csrf_token": token, "name": "Stop the visit", "slug": "stop-the-visit",
                                        "status": "paused", "timezone": "Europe/Brussels"})
    assert saved.status_code == 303
    assert service.get_campaign_by_slug(session, slug="stop-the-visit").status.value == "paused"


def test_user_text_is_escaped_in_pages_and_charts(client, session):
    campaign = make_campaign(session, name="<script>alert(1)</script>")
    make_ask(session, campaign, title="<b>Ask</b>")
    make_event(session, campaign, title="<img src=x onerror=alert(1)>")
    _signed_in(client, session)
    for path in (f"/campaigns/{campaign.slug}", f"/campaigns/{campaign.slug}/timeline"):
        html = client.get(path).text
        assert "<script>alert(1)</script>" not in html and "<img src=x" not in html and "<b>Ask</b>" not in html
        assert "&lt;script&gt;" in html


def test_unknown_campaign_and_evidence_are_not_found_pages(client, session):
    campaign = make_campaign(session)
    _signed_in(client, session, Role.volunteer)
    assert client.get("/campaigns/no-such-campaign").status_code == 404
    assert client.get(f"/campaigns/{campaign.slug}/evidence/no-such-item").status_code == 404
