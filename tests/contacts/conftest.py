"""The real legislator files, imported once per test module on a connection of its own.

Tests in a module that uses ``loaded`` get ``db``: a session inside a savepoint of that
module's transaction, rolled back after each test; everything is rolled back at the end
of the module, so the imports never leak into other tests.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session

from campaign.app import create_app
from campaign.db import get_engine
from campaign.deps import get_session
from contacts.imports import import_file

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
UK_POPOLO = DATA / "uk-commons" / "uk-commons-current-popolo.json"
EP_JSON = DATA / "eu-parliament" / "meps.json"
EP_CSV = DATA / "eu-parliament" / "meps.csv"
US_YAML = DATA / "us-congress" / "legislators-current.yaml"
US_JSON = DATA / "us-congress" / "legislators-current.json"


@pytest.fixture(scope="module")
def loaded():
    """A connection whose transaction holds the three real datasets; yields (connection, reports)."""
    if not UK_POPOLO.is_file():
        pytest.fail(f"the shared legislator data is missing: {DATA}")
    connection = get_engine().connect()
    transaction = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    reports = {
        "uk": import_file(session, path=UK_POPOLO, country="GB", actor="tests"),
        "ep": import_file(session, path=EP_JSON, actor="tests"),
        "us": import_file(session, path=US_YAML, actor="tests"),
    }
    session.commit()
    session.close()
    try:
        yield connection, reports
    finally:
        transaction.rollback()
        connection.close()


@pytest.fixture
def db(loaded):
    connection, _ = loaded
    savepoint = connection.begin_nested()
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()
        if savepoint.is_active:
            savepoint.rollback()


@pytest.fixture
def db_client(db):
    """A test client whose requests use ``db`` (the module's imported data)."""
    from fastapi.testclient import TestClient

    application = create_app()

    def test_session():
        try:
            yield db
            db.commit()
        except BaseException:
            db.rollback()
            raise

    application.dependency_overrides[get_session] = test_session
    with TestClient(application, base_url="http://testserver", follow_redirects=False) as client:
        yield client
