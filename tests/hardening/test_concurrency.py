"""Many people at once against the real server (`campaign serve`): signers on one letter,
editors on one draft, and two imports of the same file. No lost update, no duplicate, no 500."""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from campaign.accounts.models import Role
from campaign.db import make_engine
from contacts.models import Identifier, Membership, Organization, Person
from tests import live

pytestmark = [pytest.mark.slow]

UK_COMMONS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "uk-commons" / "uk-commons-current-popolo.json"


def _people(api: httpx.Client, count: int) -> list[int]:
    """``count`` new people in two parties of one chamber, imported through the API; their ids."""
    tag = secrets.token_hex(4)
    organizations = [{"id": f"chamber-{tag}", "name": f"Assembly {tag}", "classification": "chamber"},
                     {"id": f"red-{tag}", "name": f"Red {tag}", "classification": "party"},
                     {"id": f"blue-{tag}", "name": f"Blue {tag}", "classification": "party"}]
    persons = [{"id": f"{tag}-{n}", "name": f"Signer {n:02d} {tag}"} for n in range(count)]
    memberships = [{"person_id": p["id"], "organization_id": f"chamber-{tag}",
                    "on_behalf_of_id": f"{'red' if n % 2 else 'blue'}-{tag}"} for n, p in enumerate(persons)]
    content = json.dumps({"persons": persons, "organizations": organizations, "memberships": memberships})
    done = api.post("/api/v1/imports", files={"file": (f"{tag}.json", content.encode(), "application/json")})
    assert done.status_code == 200 and done.json()["created"] == count, done.text
    found = api.get("/api/v1/people", params={"q": tag, "limit": 500}).json()["items"]
    assert len(found) == count, found
    return [person["id"] for person in found]


def _letter(api: httpx.Client, *, title: str) -> dict:
    campaign = api.post("/api/v1/campaigns", json={"name": f"Concurrency {secrets.token_hex(3)}"})
    assert campaign.status_code == 201, campaign.text
    letter = api.post("/api/v1/letters", json={
        "campaign_id": campaign.json()["id"], "title": title, "subject": "The visit",
        "body": "Dear Prime Minister,\n\nWe ask you to refuse the visit.\n",
        "addressees": [{"name": "The Prime Minister"}], "sender_name": "Cosign test"})
    assert letter.status_code == 201, letter.text
    return letter.json()


def _open_for_signatures(api: httpx.Client, letter_id: int) -> None:
    for state in ("in_review", "approved", "open_for_signatures"):
        moved = api.post(f"/api/v1/letters/{letter_id}/transitions", json={"to": state})
        assert moved.status_code == 200, moved.text


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _sign_together(links: list[str]) -> list[httpx.Response]:
    """Each link opened by its own browser-like client, then all submitted at the same moment."""
    barrier = threading.Barrier(len(links))

    def sign(link: str) -> httpx.Response:
        with httpx.Client(timeout=120, follow_redirects=True) as signer:
            form = signer.get(link)
            assert form.status_code == 200, form.text[:500]
            token = _csrf(form.text)
            barrier.wait()
            return signer.post(link, data={"csrf_token": token, "action": "sign", "printed_name": "",
                                           "printed_title": "", "note": ""})

    with ThreadPoolExecutor(len(links)) as pool:
        return list(pool.map(sign, links))


def test_twenty_signers_at_once_and_one_link_submitted_five_times(live_cosign, live_api):
    log_start = len(live_cosign.log())
    staff, coordinator = live_api(Role.staff), live_api(Role.coordinator)
    people = _people(coordinator, 21)
    letter = _letter(staff, title="Twenty at once")
    _open_for_signatures(staff, letter["id"])
    invited = coordinator.post(f"/api/v1/letters/{letter['id']}/invitations",
                               json={"person_ids": people, "send_email": False})
    assert invited.status_code == 201, invited.text
    links = {row["person_id"]: row["link"] for row in invited.json()}

    answers = _sign_together([links[pid] for pid in people[:20]])
    assert [a.status_code for a in answers] == [200] * 20, [a.text[:300] for a in answers if a.status_code != 200]
    assert all("Thank you: your signature is recorded." in a.text for a in answers)
    counts = coordinator.get(f"/api/v1/letters/{letter['id']}/signatures").json()["counts"]
    assert counts["signed"] == 20 and counts["no_answer"] == 1, counts

    # One link (the 21st person's) submitted by five clients at the same moment.
    same = _sign_together([links[people[20]]] * 5)
    assert all(a.status_code < 500 for a in same), [a.text[:300] for a in same]
    recorded = [a for a in same if a.status_code == 200 and "Thank you: your signature is recorded." in a.text]
    refused = [a for a in same if a not in recorded]
    assert len(recorded) == 1, [(a.status_code, a.text[:300]) for a in same]
    assert all("already recorded" in a.text for a in refused), [(a.status_code, a.text[:300]) for a in refused]

    summary = coordinator.get(f"/api/v1/letters/{letter['id']}/signatures").json()
    assert summary["counts"]["signed"] == 21, summary["counts"]
    signed = [row["person_id"] for row in summary["people"] if row["status"] == "signed"]
    assert sorted(signed) == sorted(people), "a signature is missing or doubled"
    assert summary["by_party"] and sum(summary["by_party"].values()) == 21
    assert "Traceback" not in live_cosign.log()[log_start:]


def test_ten_editors_save_the_same_version_and_exactly_one_wins(live_cosign, live_user):
    log_start = len(live_cosign.log())
    users = [live_user(Role.staff, name=f"Editor {n}") for n in range(10)]
    editors = [httpx.Client(base_url=live_cosign.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=120)
               for _, token in users]
    letter = _letter(editors[0], title="Ten editors")
    base = letter["version"]
    before = editors[0].get(f"/api/v1/letters/{letter['id']}/versions").json()
    barrier = threading.Barrier(len(editors))

    def save(index: int) -> httpx.Response:
        barrier.wait()
        return editors[index].patch(f"/api/v1/letters/{letter['id']}", json={
            "version": base, "body": f"Dear Prime Minister,\n\nEditor {index} wrote this.\n",
            "change_note": f"editor {index}"})

    with ThreadPoolExecutor(len(editors)) as pool:
        answers = list(pool.map(save, range(len(editors))))
    codes = sorted(a.status_code for a in answers)
    assert codes == [200] + [409] * 9, [(a.status_code, a.text[:300]) for a in answers]
    winner = next(index for index, a in enumerate(answers) if a.status_code == 200)
    for answer in answers:
        if answer.status_code == 409:
            problem = answer.json()
            assert answer.headers["content-type"].startswith("application/problem+json")
            assert "Someone else saved this letter first" in problem["detail"], problem
            assert f"your changes were made to version {base}" in problem["detail"]
            assert f"by {users[winner][0].email} at " in problem["detail"], problem["detail"]
            assert problem["errors"] == [{"loc": "version", "msg": f"expected {base + 1}, got {base}"}]

    after = editors[0].get(f"/api/v1/letters/{letter['id']}/versions").json()
    assert len(after) == len(before) + 1
    assert after[-1]["version"] == base + 1 and after[-1]["change_note"] == f"editor {winner}"
    current = editors[0].get(f"/api/v1/letters/{letter['id']}").json()
    assert current["version"] == base + 1 and f"Editor {winner} wrote this." in current["body"]
    for editor in editors:
        editor.close()
    assert "Traceback" not in live_cosign.log()[log_start:]


def _import(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "campaign", "import", "popolo", str(UK_COMMONS), "--country", "GB"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_imports_of_the_same_file_at_once_leave_one_copy(tmp_path):
    env, cleanup = live.environment(tmp_path, "imports")
    try:
        migrated = subprocess.run([sys.executable, "-m", "campaign", "db", "upgrade"], env=env, capture_output=True,
                                  text=True, timeout=120)
        assert migrated.returncode == 0, migrated.stderr
        first, second = _import(env), _import(env)
        outputs = [process.communicate(timeout=300) for process in (first, second)]
        codes = [first.returncode, second.returncode]
        for (stdout, stderr), code in zip(outputs, codes):
            assert "Traceback" not in stderr and "Traceback" not in stdout, stderr[-3000:]
            if code != 0:
                assert code == 1 and "nothing was imported" in stderr and "Try again" in stderr, stderr[-2000:]
        assert 0 in codes, outputs
        creating = [out for (out, _), code in zip(outputs, codes) if code == 0 and "650 created" in out]
        assert len(creating) == 1, outputs
        url = env.get("DATABASE_URL") or f"sqlite:///{env['VAR_DIR']}/cosign.sqlite3"
        engine = make_engine(url)
        try:
            with engine.connect() as connection:
                def count(statement):
                    return connection.execute(sa.select(sa.func.count()).select_from(statement.subquery())).scalar_one()

                # What one import of this file creates (tests/contacts/test_real_data.py).
                assert count(sa.select(Person.id)) == 650
                assert count(sa.select(Organization.id)) == 19
                assert count(sa.select(Membership.id)) == 650
                identifiers = count(sa.select(Identifier.id))
                assert count(sa.select(Identifier.scheme, Identifier.value).distinct()) == identifiers
                assert count(sa.select(Organization.classification, Organization.name, Organization.parent_id)
                             .distinct()) == 19
                assert count(sa.select(Membership.person_id, Membership.organization_id, Membership.role)
                             .distinct()) == 650
        finally:
            engine.dispose()
    finally:
        for action in cleanup:
            action()


def test_two_uploads_of_the_same_file_at_once_through_the_api(live_cosign, live_api):
    tag = secrets.token_hex(4)
    organizations = [{"id": "chamber", "name": f"Assembly {tag}", "classification": "chamber"},
                     {"id": "party", "name": f"Party {tag}", "classification": "party"}]
    persons = [{"id": f"{tag}-{n}", "name": f"Member {n:03d} {tag}",
                "identifiers": [{"scheme": f"test-{tag}", "identifier": str(n)}]} for n in range(300)]
    memberships = [{"person_id": p["id"], "organization_id": "chamber", "on_behalf_of_id": "party"} for p in persons]
    content = json.dumps({"persons": persons, "organizations": organizations, "memberships": memberships}).encode()
    log_start = len(live_cosign.log())
    uploaders = [live_api(Role.coordinator), live_api(Role.staff)]
    barrier = threading.Barrier(2)

    def upload(api: httpx.Client) -> httpx.Response:
        barrier.wait()
        return api.post("/api/v1/imports", files={"file": (f"{tag}.json", content, "application/json")})

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(upload, uploaders))
    assert all(a.status_code in (200, 409) for a in answers), [(a.status_code, a.text[:500]) for a in answers]
    assert sorted(a.json()["created"] for a in answers if a.status_code == 200)[-1] == 300
    for refused in (a for a in answers if a.status_code == 409):
        assert "Try again" in refused.json()["detail"]
    found = uploaders[0].get("/api/v1/people", params={"q": tag, "limit": 500}).json()
    assert found["total"] == 300, found["total"]
    organisations = uploaders[0].get("/api/v1/organizations", params={"q": tag}).json()
    assert sorted(o["name"] for o in organisations) == [f"Assembly {tag}", f"Party {tag}"], organisations
    assert "Traceback" not in live_cosign.log()[log_start:]
