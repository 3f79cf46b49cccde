"""The first-run page: a new organisation's admin sees where setup stands and takes each step."""

from __future__ import annotations

from sqlmodel import func, select

from campaign import demo
from campaign.accounts.models import Role
from campaign.firstrun import DATASETS
from contacts.models import Person
from tests.factories import login, make_user, page_csrf


def _people(session) -> int:
    return session.exec(select(func.count()).select_from(Person)).one()


def test_an_admin_with_no_campaign_is_guided_through_setup(client, session):
    admin = make_user(session, role=Role.admin, email="first@example.org")
    login(client, admin)
    home = client.get("/")
    assert home.status_code == 303 and home.headers["location"] == "/first-run"

    page = client.get("/first-run")
    assert page.status_code == 200
    html = page.text
    assert "first@example.org" in html and "Users page" in html
    # Mail: the current settings (files, in the test run) and how to change them, not a form that stores them.
    assert "Kept in files" in html and "outbox" in html
    for variable in ("MAIL_BACKEND", "SMTP_HOST", "SMTP_SECURITY", "SMTP_PASSWORD", "MAIL_FROM"):
        assert variable in html
    # Legislators from the bundled public data, or a file.
    assert "Import the UK House of Commons" in html and "Import the US Congress" in html
    assert 'href="/people/import"' in html
    # A campaign from the demo or blank.
    assert "Load the demo campaign" in html and 'href="/campaigns#start"' in html
    assert 'href="/first-run" aria-current="page"' in html  # the admin's navigation leads here


def test_the_admin_imports_a_bundled_dataset_and_loads_the_demo(client, session):
    admin = make_user(session, role=Role.admin)
    login(client, admin)
    before = _people(session)
    csrf = page_csrf(client, "/first-run")
    imported = client.post("/first-run/import", data={"csrf_token": csrf, "dataset": "us-congress"})
    assert imported.status_code == 303 and imported.headers["location"] == "/first-run#legislators"
    page = client.get("/first-run").text
    assert "Imported the US Congress: 537 people added" in page
    assert _people(session) == before + 537
    assert "537 in the directory" in page or f"{before + 537:,} in the directory" in page

    loaded = client.post("/first-run/demo", data={"csrf_token": csrf})
    assert loaded.status_code == 303 and loaded.headers["location"] == f"/campaigns/{demo.CAMPAIGN_SLUG}"
    assert "The demo campaign is loaded" in client.get(loaded.headers["location"]).text
    assert client.get("/").status_code == 200  # with a campaign, home is the campaign list again
    assert "Open the demo" in client.get("/first-run").text and "Load the demo campaign" not in client.get("/first-run").text


def test_an_unknown_dataset_is_refused_beside_the_datasets_and_nothing_is_written(client, session):
    admin = make_user(session, role=Role.admin)
    login(client, admin)
    before = _people(session)
    refused = client.post("/first-run/import", data={"csrf_token": page_csrf(client, "/first-run"),
                                                     "dataset": "../../etc/passwd"})
    assert refused.status_code == 422
    assert 'id="dataset-error"' in refused.text and "Choose one of the datasets listed." in refused.text
    assert _people(session) == before


def test_only_the_admin_sets_up(client, session):
    for role in (Role.staff, Role.coordinator, Role.volunteer):
        client.cookies.clear()
        login(client, make_user(session, role=role))
        assert client.get("/first-run").status_code == 403  # the role matrix checks the posts too
        home = client.get("/")
        assert home.status_code == 200 and 'href="/first-run"' not in home.text  # no redirect, no link


def test_every_listed_dataset_is_a_file_the_importer_reads():
    assert {dataset.key for dataset in DATASETS} == {"uk-commons", "us-congress", "eu-parliament"}
    for dataset in DATASETS:
        assert dataset.path() is not None, f"{dataset.relative_path} is missing"
