"""`campaign web` starts as many uvicorn processes as WEB_CONCURRENCY asks (one unless told)."""

from __future__ import annotations

import uvicorn
from typer.testing import CliRunner

from campaign import cli
from campaign.settings import get_settings


def _run_web(monkeypatch, *args: str) -> dict:
    started: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: started.update(app=app, **options))
    result = CliRunner().invoke(cli.app, ["web", *args])
    assert result.exit_code == 0, result.output
    return started


def test_web_runs_one_process_by_default(monkeypatch):
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    get_settings.cache_clear()
    try:
        assert _run_web(monkeypatch)["workers"] == 1
    finally:
        get_settings.cache_clear()


def test_web_concurrency_sets_the_number_of_processes(monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    get_settings.cache_clear()
    try:
        started = _run_web(monkeypatch)
        assert started["app"] == "campaign.asgi:app" and started["workers"] == 3
        assert _run_web(monkeypatch, "--workers", "2")["workers"] == 2
    finally:
        get_settings.cache_clear()
