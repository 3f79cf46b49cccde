"""Users, API clients and data in the live server's own database (`live_cosign`)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator

import httpx
import pytest
from sqlmodel import Session

from campaign.accounts import service as accounts_service
from campaign.accounts.models import Role, User
from campaign.db import make_engine
from tests.factories import PASSWORD


@pytest.fixture(scope="session")
def live_engine(live_cosign):
    url = live_cosign.env.get("DATABASE_URL") or f"sqlite:///{live_cosign.env['VAR_DIR']}/cosign.sqlite3"
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def live_write(live_engine) -> Callable:
    """Run ``action(session)`` in a committed transaction on the live server's database."""

    def write(action):
        with Session(live_engine.execution_options(sqlite_begin="IMMEDIATE"), expire_on_commit=False) as session:
            result = action(session)
            session.commit()
            return result

    return write


@pytest.fixture(scope="session")
def live_user(live_write) -> Callable[..., tuple[User, str]]:
    """A user of the live server with an API token: (user, token)."""

    def create(role: Role, name: str = "") -> tuple[User, str]:
        def action(session):
            user = accounts_service.create_user(session, email=f"{role.value}-{secrets.token_hex(4)}@example.org",
                                                role=role, password=PASSWORD, name=name, actor="tests")
            return user, accounts_service.create_api_token(session, user=user, name="tests").secret

        return live_write(action)

    return create


@pytest.fixture(scope="session")
def live_api(live_cosign, live_user) -> Iterator[Callable[[Role], httpx.Client]]:
    clients: list[httpx.Client] = []

    def client(role: Role, name: str = "") -> httpx.Client:
        _, token = live_user(role, name)
        made = httpx.Client(base_url=live_cosign.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=120)
        clients.append(made)
        return made

    yield client
    for made in clients:
        made.close()
