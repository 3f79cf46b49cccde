"""Request bodies larger than any upload may be are refused before they are read."""

from __future__ import annotations

import pytest

from campaign.settings import get_settings

LIMIT = 64 * 1024


@pytest.fixture
def small_limit(monkeypatch):
    monkeypatch.setattr(get_settings(), "max_upload_bytes", LIMIT)


@pytest.mark.xfail(strict=True, reason="no request body limit: every multipart POST to a page (/login too, before "
                                       "anyone signs in) is read whole and spooled to disk by the CSRF check's "
                                       "request.form(); see the report for the middleware that fixes it")
def test_an_anonymous_body_over_the_upload_limit_is_refused_unread(client, small_limit):
    big = b"x" * (LIMIT * 4)
    for path in ("/login", "/people/import", "/api/v1/imports"):
        answer = client.post(path, files={"file": ("people.json", big, "application/json")},
                             data={"email": "a@example.org", "password": "x"})
        assert answer.status_code == 413, (path, answer.status_code, answer.text[:300])
        assert "too large" in answer.text.lower()
