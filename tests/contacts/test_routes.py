"""Who may do what on the contacts routes, stance recording, uploads and segments over HTTP."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from campaign.accounts.models import Role
from campaign.settings import get_settings
from contacts.models import Person, Segment, Stance
from tests.contacts.factories import make_ask, make_person
from tests.factories import csrf_from, login, make_token, make_user, page_csrf

POPOLO = json.dumps({"persons": [{"id": "x1", "name": "Zoë Ünal"}],
                     "organizations": [{"id": "leg", "name": "Test Assembly", "classification": "legislature"}],
                     "memberships": [{"person_id": "x1", "organization_id": "leg"}]}).encode()


def _api(client, session, role):
    token = make_token(session, make_user(session, role=role))
    client.headers["Authorization"] = f"Bearer {token}"
    return client


@pytest.mark.parametrize("role", list(Role))
def test_every_role_reads_the_directory_person_and_segments(client, session, role):
    person = make_person(session, name="Zoë Ünal", party="Party X", email="z@example.org")
    session.commit()
    login(client, make_user(session, role=role))
    assert client.get("/people?q=zoe%20unal").status_code == 200
    assert "Zoë Ünal" in client.get("/people?q=ZOE").text
    assert client.get(f"/people/{person.id}").status_code == 200
    assert client.get("/segments").status_code == 200
    assert client.get("/api/v1/people").json()["total"] == 1
    assert client.get("/api/v1/organizations?classification=party").json()[0]["name"] == "Party X"


@pytest.mark.parametrize("role,allowed", [(Role.volunteer, False), (Role.coordinator, True), (Role.staff, True),
                                          (Role.admin, True)])
def test_only_coordinators_staff_and_admins_edit_contacts_and_segments(client, session, role, allowed):
    _api(client, session, role)
    created = client.post("/api/v1/segments", json={"name": "All", "filter": {"has_email": True}})
    assert created.status_code == (201 if allowed else 403)
    upload = client.post("/api/v1/imports", files={"file": ("p.json", POPOLO, "application/json")})
    assert upload.status_code == (200 if allowed else 403), upload.text
    if allowed:
        assert upload.json()["created"] == 1
        segment_id = created.json()["id"]
        assert client.patch(f"/api/v1/segments/{segment_id}", json={"name": "Renamed"}).json()["name"] == "Renamed"
        assert client.get(f"/api/v1/segments/{segment_id}/people").status_code == 200
        assert client.delete(f"/api/v1/segments/{segment_id}").status_code == 204
    else:
        assert session.execute(sa.select(sa.func.count()).select_from(Segment)).scalar_one() == 0


def test_a_volunteer_records_a_stance_only_with_a_source(client, session):
    ask = make_ask(session)
    person = make_person(session)
    session.commit()
    _api(client, session, Role.volunteer)
    missing = client.post(f"/api/v1/people/{person.id}/stances",
                          json={"ask_id": ask.id, "position": "supportive", "source_kind": "url"})
    assert missing.status_code == 422
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert missing.json()["errors"][0]["loc"] == "source_url"
    ok = client.post(f"/api/v1/people/{person.id}/stances",
                     json={"ask_id": ask.id, "position": "supportive", "source_kind": "url",
                           "source_url": "https://example.org/letter"})
    assert ok.status_code == 201 and ok.json()["position"] == "supportive"
    unknown_evidence = client.post(f"/api/v1/people/{person.id}/stances",
                                   json={"ask_id": ask.id, "position": "champion", "source_kind": "evidence",
                                         "source_evidence_id": 999999})
    assert unknown_evidence.status_code == 422
    assert unknown_evidence.json()["errors"][0]["loc"] == "source_evidence_id"
    later = client.post(f"/api/v1/people/{person.id}/stances",
                        json={"ask_id": ask.id, "position": "champion", "source_kind": "note",
                              "source_note": "Spoke in the debate on 4 June"})
    assert later.status_code == 201
    detail = client.get(f"/api/v1/people/{person.id}").json()
    assert [s["position"] for s in detail["stances"]] == ["champion", "supportive"]
    assert client.post("/api/v1/merges", json={"keep_id": person.id, "drop_id": person.id}).status_code == 403


def test_stance_form_keeps_values_and_shows_the_error_next_to_the_field(client, session):
    ask = make_ask(session)
    person = make_person(session)
    session.commit()
    login(client, make_user(session, role=Role.volunteer))
    token = page_csrf(client, f"/people/{person.id}")
    refused = client.post(f"/people/{person.id}/stances", data={
        "csrf_token": token, "ask_id": str(ask.id), "position": "opposed", "source_kind": "note", "source_note": ""})
    assert refused.status_code == 422
    assert "a note source needs the note" in refused.text
    assert session.execute(sa.select(sa.func.count()).select_from(Stance)).scalar_one() == 0
    done = client.post(f"/people/{person.id}/stances", data={
        "csrf_token": token, "ask_id": str(ask.id), "position": "opposed", "source_kind": "note",
        "source_note": "Told us <b>no</b> at the meeting"})
    assert done.status_code == 303
    page = client.get(f"/people/{person.id}").text
    assert "Told us &lt;b&gt;no&lt;/b&gt; at the meeting" in page


def test_volunteers_cannot_open_import_duplicates_or_save_segments(client, session):
    login(client, make_user(session, role=Role.volunteer))
    assert client.get("/people/import").status_code == 403
    assert client.get("/people/duplicates").status_code == 403
    token = page_csrf(client, "/people")
    assert client.post("/segments", data={"csrf_token": token, "name": "x"}).status_code == 403


def test_upload_page_imports_and_refuses_too_large_files(client, session, monkeypatch):
    login(client, make_user(session, role=Role.coordinator))
    token = csrf_from(client.get("/people/import").text)
    done = client.post("/people/import", data={"csrf_token": token, "format": "auto"},
                       files={"file": ("people.json", POPOLO, "application/json")})
    assert done.status_code == 200 and "1 created" in done.text
    monkeypatch.setattr(get_settings(), "max_upload_bytes", 20)
    big = client.post("/people/import", data={"csrf_token": token, "format": "auto"},
                      files={"file": ("people.json", POPOLO, "application/json")})
    assert big.status_code == 422 and "Nothing was imported" in big.text and "too large" in big.text
    bad = client.post("/people/import", data={"csrf_token": token, "format": "popolo"},
                      files={"file": ("people.json", b"[]", "application/json")})
    assert bad.status_code == 422


def test_csv_upload_is_previewed_with_a_mapping_then_imported(client, session):
    login(client, make_user(session, role=Role.staff))
    token = csrf_from(client.get("/people/import").text)
    content = b"Who,Mail,House\nLord Example,lord@example.org,House of Lords\n"
    preview = client.post("/people/import", data={"csrf_token": token, "format": "auto", "country": "GB"},
                          files={"file": ("peers.csv", content, "text/csv")})
    assert preview.status_code == 200 and "Map the columns" in preview.text
    assert session.execute(sa.select(sa.func.count()).select_from(Person)).scalar_one() == 0
    upload_token = preview.text.split('name="token" value="')[1].split('"')[0]
    form = {"csrf_token": token, "token": upload_token, "filename": "peers.csv", "country": "GB",
            "map": ["name", "email", "organization"], "scheme": ["", "", ""], "action": "import"}
    done = client.post("/people/import/csv", data=form)
    assert done.status_code == 200 and "1 created" in done.text
    lord = session.execute(sa.select(Person)).scalar_one()
    assert lord.email == "lord@example.org"
    expired = client.post("/people/import/csv", data=form)
    assert expired.status_code == 422


def test_duplicates_page_merges_a_pair(client, session):
    first = make_person(session, name="Jane Smith", chamber="House of Lords")
    second = make_person(session, name="SMITH, Jane", chamber="House of Lords")
    session.commit()
    login(client, make_user(session, role=Role.coordinator))
    page = client.get("/people/duplicates")
    assert "Jane Smith" in page.text and f"merge #{second.id} into it" in page.text
    merged = client.post("/people/merge", data={"csrf_token": csrf_from(page.text), "keep_id": first.id,
                                                "drop_id": second.id})
    assert merged.status_code == 303 and merged.headers["location"] == f"/people/{first.id}"
    assert session.get(Person, second.id) is None


@pytest.mark.parametrize("bad", [{"country": True}, {"tag": 5}, {"country": [{"code": "GB"}]}, {"tag": {"a": "b"}}])
def test_a_segment_filter_of_the_wrong_shape_is_refused_with_where(client, session, bad):
    _api(client, session, Role.staff)
    created = client.post("/api/v1/segments", json={"name": "UK", "filter": {"country": " gb ", "tag": [" ally ", ""]}})
    assert created.json()["filter"]["country"] == ["GB"] and created.json()["filter"]["tag"] == ["ally"]
    refused = client.patch(f"/api/v1/segments/{created.json()['id']}", json={"filter": bad})
    assert refused.status_code == 422, refused.text
    field = next(iter(bad))
    assert any(error["loc"].startswith(f"filter.{field}") for error in refused.json()["errors"]), refused.json()
