"""`campaign serve` as a user starts it: the web app answers, and a task runs on the real worker."""

from __future__ import annotations

import os
import re
import time

import httpx
import pytest

from tests import live

pytestmark = pytest.mark.slow


def _api_token(instance) -> str:
    return instance.cli("tokens", "create", live.ADMIN_EMAIL, "--name", "serve test").stdout.strip().splitlines()[-1]


def test_serve_answers_healthz_with_database_and_broker(live_cosign):
    body = httpx.get(f"{live_cosign.base_url}/healthz").json()
    assert body == {**body, "status": "ok", "database": "ok", "broker": "ok"}


def test_a_task_enqueued_through_the_app_runs_on_the_worker(live_cosign):
    headers = {"Authorization": f"Bearer {_api_token(live_cosign)}"}
    requested = httpx.post(f"{live_cosign.base_url}/api/v1/system/pings", headers=headers)
    assert requested.status_code == 202
    token = requested.json()["token"]
    deadline = time.monotonic() + 30
    ping = requested.json()
    while ping["completed_at"] is None and time.monotonic() < deadline:
        time.sleep(0.2)
        ping = httpx.get(f"{live_cosign.base_url}/api/v1/system/pings/{token}", headers=headers).json()
    assert ping["completed_at"] is not None, f"the worker never ran the task:\n{live_cosign.log()[-3000:]}"
    assert ping["worker"]


def test_serve_created_the_admin_from_the_environment(live_cosign):
    listing = live_cosign.cli("users", "list").stdout
    assert f"{live.ADMIN_EMAIL}\tadmin\tactive" in listing


def test_tokens_create_prints_the_token_alone_on_the_last_line(live_cosign):
    token = _api_token(live_cosign)
    assert token.startswith("cs_") and " " not in token
    me = httpx.get(f"{live_cosign.base_url}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["email"] == live.ADMIN_EMAIL


def test_cli_reports_bad_input_without_a_traceback(live_cosign):
    result = live_cosign.cli("users", "create", "not-an-email", "--role", "emperor", "--password", "x", check=False)
    assert result.returncode == 1
    assert "email: 'not-an-email' is not an e-mail address." in result.stderr
    assert "Traceback" not in result.stderr


def test_users_disable_ends_api_access(live_cosign):
    live_cosign.cli("users", "create", "leaver@example.org", "--role", "volunteer", "--password", "leaver password")
    token = live_cosign.cli("tokens", "create", "leaver@example.org").stdout.strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{live_cosign.base_url}/api/v1/me", headers=headers).status_code == 200
    live_cosign.cli("users", "disable", "leaver@example.org")
    assert httpx.get(f"{live_cosign.base_url}/api/v1/me", headers=headers).status_code == 401


def test_ctrl_c_stops_web_worker_and_beat(tmp_path):
    instance = live.start(tmp_path, name="stoppable")
    pids = {name: int(pid) for name, pid in re.findall(r"(web|worker|beat) pid (\d+)", instance.log())}
    assert set(pids) == {"web", "worker", "beat"}
    assert instance.stop() == 0
    for pid in pids.values():
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
