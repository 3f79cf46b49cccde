"""The campaign JSON API: round trips, errors as problem+json, and who may change what."""

from __future__ import annotations

import pytest

from campaign.accounts.models import Role
from campaign.models import Event
from tests.campaign.factories import make_campaign, make_event, make_evidence
from tests.factories import make_token, make_user


def _headers(session, role: Role) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(session, make_user(session, role=role))}"}


def test_staff_run_a_campaign_through_the_api(client, session):
    staff = _headers(session, Role.staff)
    created = client.post("/api/v1/campaigns", json={"name": "Stop the visit", "status": "active"}, headers=staff)
    assert created.status_code == 201, created.text
    campaign = created.json()
    assert campaign["slug"] == "stop-the-visit" and campaign["timezone"] == "Europe/London"
    cid = campaign["id"]

    patched = client.patch(f"/api/v1/campaigns/{cid}", json={"goal": "Refuse the visit"}, headers=staff)
    assert patched.json()["goal"] == "Refuse the visit" and patched.json()["status"] == "active"

    for title in ("Refuse the visit", "Suspend the extradition treaty", "Sanctions"):
        assert client.post(f"/api/v1/campaigns/{cid}/asks", json={"title": title}, headers=staff).status_code == 201
    asks = client.get(f"/api/v1/campaigns/{cid}/asks", headers=staff).json()
    order = [asks[2]["id"], asks[0]["id"], asks[1]["id"]]
    reordered = client.put(f"/api/v1/campaigns/{cid}/asks/order", json={"ask_ids": order}, headers=staff)
    assert [a["id"] for a in reordered.json()] == order

    event = client.post(f"/api/v1/campaigns/{cid}/events", headers=staff, json={
        "kind": "court_ruling", "title": "Liu v. Poland", "start": "2022-10", "place": "Strasbourg",
        "sources": [{"title": "Safeguard Defenders", "url": "https://safeguarddefenders.com/"}]})
    assert event.status_code == 201, event.text
    assert event.json()["when"] == "October 2022" and event.json()["start_precision"] == "month"
    eid = event.json()["id"]
    moved = client.patch(f"/api/v1/events/{eid}", json={"start": "2023-01-30", "title": "Liu v. Poland in force"},
                         headers=staff)
    assert moved.json()["when"] == "30 January 2023"
    assert client.delete(f"/api/v1/events/{eid}", headers=staff).status_code == 204
    assert session.get(Event, eid) is None


def test_a_31_february_event_is_a_problem_naming_the_field(client, session):
    staff = _headers(session, Role.staff)
    campaign = make_campaign(session)
    response = client.post(f"/api/v1/campaigns/{campaign.id}/events", headers=staff,
                           json={"kind": "visit", "title": "Visit", "start": "2023-02-31"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"] == [{"loc": "start", "msg": "2023-02-31 is not a date: February 2023 has 28 days."}]
    assert client.get(f"/api/v1/campaigns/{campaign.id}/events", headers=staff).json() == []


def test_unknown_event_kind_is_refused(client, session):
    staff = _headers(session, Role.staff)
    campaign = make_campaign(session)
    response = client.post(f"/api/v1/campaigns/{campaign.id}/events", headers=staff,
                           json={"kind": "party", "title": "X", "start": "2023"})
    assert response.status_code == 422 and response.json()["errors"][0]["loc"] == "kind"


def test_events_filter_by_kind_and_date_in_the_api(client, session):
    reader = _headers(session, Role.volunteer)
    campaign = make_campaign(session)
    make_event(session, campaign, kind="resolution", title="EP resolution", start="2022-06-09")
    make_event(session, campaign, kind="report", title="Involuntary Returns", start="2022-01-18")
    url = f"/api/v1/campaigns/{campaign.id}/events"
    assert [e["title"] for e in client.get(url, headers=reader).json()] == ["Involuntary Returns", "EP resolution"]
    assert [e["title"] for e in client.get(url, params={"kind": "resolution"}, headers=reader).json()] == ["EP resolution"]
    assert [e["title"] for e in client.get(url, params={"date_to": "2022-03-01"}, headers=reader).json()] == [
        "Involuntary Returns"]


def test_evidence_versions_and_cite_lookup_through_the_api(client, session):
    staff = _headers(session, Role.staff)
    campaign = make_campaign(session)
    created = client.post(f"/api/v1/campaigns/{campaign.id}/evidence", headers=staff, json={
        "slug": "skynet-return-methods-2018", "kind": "table", "title": "Return methods, 2018",
        "data": {"columns": ["Method", "Returns"], "rows": [["Voluntary return", 851], ["Extradition", 17]]},
        "source_title": "Liu Jianchao - caught by his own investigators", "source_author": "Safeguard Defenders",
        "source_url": "http://www.xinhuanet.com/legal/2019-01/23/c_1124027691.htm", "tags": ["sky-net"]})
    assert created.status_code == 201, created.text
    item = created.json()
    assert item["version"] == 1 and item["tags"] == ["sky-net"]

    edited = client.patch(f"/api/v1/evidence/{item['id']}", headers=staff, json={
        "data": {"columns": ["Method", "Returns"], "rows": [["Voluntary return", 851], ["Deportation", 66],
                                                             ["Extradition", 17]]}, "change_note": "deportation row"})
    assert edited.status_code == 200 and edited.json()["version"] == 2
    versions = client.get(f"/api/v1/evidence/{item['id']}/versions", headers=staff).json()
    assert [v["version"] for v in versions] == [2, 1]
    first = client.get(f"/api/v1/evidence/{item['id']}/versions/1", headers=staff).json()
    assert len(first["data"]["rows"]) == 2 and first["created_by_label"].startswith("staff-")
    cited = client.get(f"/api/v1/campaigns/{campaign.id}/evidence/by-slug/skynet-return-methods-2018", headers=staff)
    assert cited.json()["version"] == 2 and cited.json()["change_note"] == "deportation row"
    assert client.get(f"/api/v1/evidence/{item['id']}/versions/7", headers=staff).status_code == 404


def test_a_short_table_row_is_refused_naming_the_row_and_nothing_is_written(client, session):
    staff = _headers(session, Role.staff)
    campaign = make_campaign(session)
    response = client.post(f"/api/v1/campaigns/{campaign.id}/evidence", headers=staff, json={
        "slug": "returns", "kind": "table", "title": "Returns",
        "data": {"columns": ["Year", "Returns"], "rows": [[2014, 680], [2015]]}})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"loc": "data.rows[1]", "msg": "Row 2 has 1 cells but the table has 2 columns (Year, Returns)."}]
    assert client.get(f"/api/v1/campaigns/{campaign.id}/evidence", headers=staff).json() == []


def test_a_duplicate_evidence_slug_is_a_conflict(client, session):
    staff = _headers(session, Role.staff)
    campaign = make_campaign(session)
    make_evidence(session, campaign)
    response = client.post(f"/api/v1/campaigns/{campaign.id}/evidence", headers=staff, json={
        "slug": "skynet-returns-2018", "kind": "claim", "title": "Again", "text": "x"})
    assert response.status_code == 409 and response.json()["errors"][0]["loc"] == "slug"


def test_library_search_in_the_api(client, session):
    reader = _headers(session, Role.coordinator)
    campaign = make_campaign(session)
    make_evidence(session, campaign, slug="liuzhi-total", title="Liuzhi", data={"value": 12193}, tags=["liuzhi"])
    make_evidence(session, campaign, slug="kite", kind="quote", title="Kite", text="A fugitive is like a kite.")
    url = f"/api/v1/campaigns/{campaign.id}/evidence"
    assert [e["slug"] for e in client.get(url, params={"q": "kite"}, headers=reader).json()] == ["kite"]
    assert [e["slug"] for e in client.get(url, params={"tag": "liuzhi"}, headers=reader).json()] == ["liuzhi-total"]
    assert [e["slug"] for e in client.get(url, params={"kind": "quote"}, headers=reader).json()] == ["kite"]


@pytest.mark.parametrize("role", [Role.coordinator, Role.volunteer])
def test_coordinators_and_volunteers_read_but_do_not_edit(client, session, role):
    headers = _headers(session, role)
    campaign = make_campaign(session)
    evidence = make_evidence(session, campaign)
    event = make_event(session, campaign)
    assert client.get(f"/api/v1/campaigns/{campaign.id}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/evidence/{evidence.id}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/campaigns/{campaign.id}/stances", headers=headers).status_code == 200
    refused = [
        client.post("/api/v1/campaigns", json={"name": "Mine"}, headers=headers),
        client.patch(f"/api/v1/campaigns/{campaign.id}", json={"name": "Renamed"}, headers=headers),
        client.post(f"/api/v1/campaigns/{campaign.id}/asks", json={"title": "Ask"}, headers=headers),
        client.post(f"/api/v1/campaigns/{campaign.id}/events", headers=headers,
                    json={"kind": "visit", "title": "X", "start": "2023"}),
        client.delete(f"/api/v1/events/{event.id}", headers=headers),
        client.patch(f"/api/v1/evidence/{evidence.id}", json={"text": "changed"}, headers=headers),
    ]
    assert [r.status_code for r in refused] == [403] * 6
    session.refresh(evidence)
    assert evidence.version == 1 and evidence.text == ""


def test_admins_edit_too(client, session):
    admin = _headers(session, Role.admin)
    campaign = make_campaign(session)
    response = client.patch(f"/api/v1/campaigns/{campaign.id}", json={"status": "paused"}, headers=admin)
    assert response.status_code == 200 and response.json()["status"] == "paused"


def test_input_no_database_can_keep_is_refused_not_a_server_error(client, session):
    staff = _headers(session, Role.staff)
    campaign = make_campaign(session)
    answers = [
        client.patch("/api/v1/campaigns/9223372036854775808", json={}, headers=staff),
        client.post("/api/v1/campaigns", json={"name": "Nul\u0000byte"}, headers=staff),
        client.post(f"/api/v1/campaigns/{campaign.id}/events", headers=staff,
                    json={"kind": "visit", "title": "X", "start": "0000-01-01"}),
        client.post(f"/api/v1/campaigns/{campaign.id}/evidence", headers={**staff, "Content-Type": "application/json"},
                    content='{"slug": "nan", "kind": "figure", "title": "NaN", "data": {"value": NaN}}'),
        client.get(f"/api/v1/campaigns/{campaign.id}/evidence", params={"q": "a\u0000b"}, headers=staff),
        client.post(f"/api/v1/campaigns/{campaign.id}/evidence", headers=staff, json={
            "slug": "ids", "kind": "claim", "title": "X", "person_ids": [2**40]}),
    ]
    assert [a.status_code for a in answers] == [422] * 6
    assert all(a.headers["content-type"] == "application/problem+json" for a in answers)
    assert "finite number" in answers[3].json()["detail"]
