"""Test set-up: one database per run, a rolled-back transaction per test, real services.

The backend comes from the environment, as for the app: no DATABASE_URL means SQLite
and the embedded broker; DATABASE_URL and CELERY_BROKER_URL point the same suite at
PostgreSQL and Redis. Each run gets its own database (or SQLite file), var/ folder
and Celery queue, so runs on the same machine never see each other's rows. When a
configured service is unreachable the run stops with an error instead of skipping.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from pathlib import Path

import pytest

RUN_ID = secrets.token_hex(4)
RUN_DIR = Path(tempfile.mkdtemp(prefix=f"cosign-test-{RUN_ID}-"))
os.environ["VAR_DIR"] = str(RUN_DIR / "var")
os.environ["CELERY_QUEUE"] = f"cosign-test-{RUN_ID}"
os.environ["SECRET_KEY"] = secrets.token_urlsafe(32)
os.environ.setdefault("LOG_LEVEL", "WARNING")

from tests import services  # noqa: E402  (reads the environment set above)

BASE_DATABASE_URL = os.environ.get("DATABASE_URL", "")
RUN_DATABASE_URL = services.create_run_database(BASE_DATABASE_URL, f"cosign_test_{RUN_ID}")
if RUN_DATABASE_URL:
    os.environ["DATABASE_URL"] = RUN_DATABASE_URL
services.require_broker(os.environ.get("CELERY_BROKER_URL", ""))

from sqlmodel import Session  # noqa: E402

from campaign import migrate  # noqa: E402
from campaign.app import create_app  # noqa: E402
from campaign.db import get_engine  # noqa: E402
from campaign.deps import get_session  # noqa: E402


def pytest_report_header(config):
    backend = "postgresql" if RUN_DATABASE_URL else "sqlite"
    broker = os.environ.get("CELERY_BROKER_URL") or "embedded sqlite broker"
    return f"cosign: database={backend} ({RUN_DATABASE_URL or os.environ['VAR_DIR']}), broker={broker}"


@pytest.fixture(scope="session", autouse=True)
def migrated_database():
    migrate.upgrade()
    yield
    get_engine().dispose()
    if RUN_DATABASE_URL:
        services.drop_database(BASE_DATABASE_URL, RUN_DATABASE_URL)
    if not os.environ.get("KEEP_TEST_DIR"):  # set it to read the logs of the servers a run started
        shutil.rmtree(RUN_DIR, ignore_errors=True)


@pytest.fixture
def session():
    """A session whose commits are savepoints inside a transaction rolled back after the test."""
    connection = get_engine().connect()
    transaction = connection.begin()
    db_session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield db_session
    finally:
        db_session.close()
        transaction.rollback()
        connection.close()


@pytest.fixture
def app(session):
    application = create_app()

    def test_session():
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise

    application.dependency_overrides[get_session] = test_session
    return application


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app, base_url="http://testserver", follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def backend() -> str:
    return "postgresql" if RUN_DATABASE_URL else "sqlite"


@pytest.fixture(scope="session")
def live_cosign():
    """`campaign serve` (web, worker, beat) on its own database, delivering to a real SMTP server (the
    sink, as ``live_cosign.sink``), shared by the tests that need it."""
    from tests import live
    from tests.workers.smtp_sink import SmtpSink

    sink = SmtpSink().start()
    try:
        instance = live.start(RUN_DIR, MAIL_BACKEND="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=str(sink.port))
        instance.sink = sink
        yield instance
        instance.stop()
    finally:
        sink.stop()


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        if services.in_ci():
            pytest.fail("Chromium is not installed; `make chromium` installs Debian's package.")
        pytest.skip("Chromium is not installed; `make chromium` installs Debian's package.")
    return path


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_path, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    directory = Path(os.environ.get("SCREENSHOT_DIR", "var/screenshots"))
    directory.mkdir(parents=True, exist_ok=True)
    return directory
