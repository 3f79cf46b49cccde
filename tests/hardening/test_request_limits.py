"""Request bodies larger than any upload may be are refused before they are read."""

from __future__ import annotations

import pytest

from campaign.settings import get_settings

LIMIT = 64 * 1024


@pytest.fixture
def small_limit(monkeypatch):
    monkeypatch.setattr(get_settings(), "max_upload_bytes", LIMIT)


def test_an_anonymous_body_over_the_upload_limit_is_refused_unread(client, small_limit):
    big = b"x" * (LIMIT * 4)
    for path in ("/login", "/people/import", "/api/v1/imports"):
        answer = client.post(path, files={"file": ("people.json", big, "application/json")},
                             data={"email": "a@example.org", "password": "x"})
        assert answer.status_code == 413, (path, answer.status_code, answer.text[:300])
        assert "too large" in answer.text.lower()
        if path.startswith("/api/"):
            assert answer.headers["content-type"] == "application/problem+json"


def test_a_chunked_body_is_cut_off_once_it_passes_the_limit(client, small_limit):
    def chunks():
        for _ in range(8):
            yield b"x" * LIMIT

    answer = client.post("/api/v1/imports", content=chunks(),
                         headers={"Content-Type": "multipart/form-data; boundary=abc"})
    assert answer.status_code == 413 and "too large" in answer.text.lower()
