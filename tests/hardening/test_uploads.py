"""Hostile uploads and imports: too large, wrong types, compressed bombs, YAML alias bombs,
deep nesting, enormous CSV cells and lines, NUL characters, and files bad on one line of
many. Each is refused with a message that names the problem, and nothing is written."""

from __future__ import annotations

import gzip
import io
import json
import zipfile

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from campaign.accounts.models import Role
from campaign.audit import AuditEntry
from campaign.settings import get_settings
from contacts.models import Identifier, Membership, Organization, Person, PersonTag
from tests.factories import csrf_from, login, make_token, make_user

ORGS = [{"id": "leg", "name": "Test Assembly", "classification": "legislature"}]


def _popolo(persons, memberships=()) -> bytes:
    return json.dumps({"persons": persons, "organizations": ORGS, "memberships": list(memberships)}).encode()


GOOD = _popolo([{"id": "x1", "name": "Ada Lovelace"}], [{"person_id": "x1", "organization_id": "leg"}])


def _totals(session):
    return tuple(session.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
                 for table in (Person, Organization, Membership, Identifier, PersonTag, AuditEntry))


@pytest.fixture
def api(client, session):
    client.headers["Authorization"] = f"Bearer {make_token(session, make_user(session, role=Role.coordinator))}"
    return client


def _refused(api, session, content: bytes, filename: str, fmt: str = "auto", status: int = 422) -> dict:
    before = _totals(session)
    answer = api.post("/api/v1/imports", data={"format": fmt}, files={"file": (filename, content, "text/plain")})
    assert answer.status_code == status, answer.text[:2000]
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert _totals(session) == before, f"a refused upload of {filename} wrote something"
    return answer.json()


def _messages(problem: dict) -> str:
    return " ".join([problem["detail"], *(f"{e['loc']}: {e['msg']}" for e in problem.get("errors") or [])])


# --- size --------------------------------------------------------------------------------------


def test_a_file_over_the_configured_limit_is_refused_on_every_path_and_one_at_the_limit_is_read(api, session,
                                                                                              tmp_path):
    limit = get_settings().max_upload_bytes
    at_limit = GOOD + b" " * (limit - len(GOOD))
    over = at_limit + b" "
    problem = _refused(api, session, over, "people.json")
    assert "too large" in problem["detail"] and f"{limit:,}" in problem["detail"]
    assert problem["errors"] == [{"loc": "file", "msg": f"larger than {limit:,} bytes"}]

    done = api.post("/api/v1/imports", files={"file": ("people.json", at_limit, "application/json")})
    assert done.status_code == 200 and done.json()["created"] == 1, done.text[:500]

    del api.headers["Authorization"]
    login(api, make_user(session, role=Role.staff))
    token = csrf_from(api.get("/people/import").text)
    before = _totals(session)
    page = api.post("/people/import", data={"csrf_token": token, "format": "auto"},
                    files={"file": ("people.json", over, "application/json")})
    assert page.status_code == 422 and "too large" in page.text and "Nothing was imported" in page.text
    assert _totals(session) == before

    from contacts.cli import import_app

    path = tmp_path / "people.json"
    path.write_bytes(over)
    result = CliRunner().invoke(import_app, ["auto", str(path)])
    assert result.exit_code == 1 and "too large" in result.output, result.output


# --- wrong types and compressed files --------------------------------------------------------


def _gzip_bomb() -> bytes:
    """About 1 MB that inflates to 1 GiB: one 10 MiB member repeated (gzip allows many members)."""
    member = gzip.compress(b"\0" * (10 << 20), compresslevel=9)
    return member * 100


def _zip_bomb(name: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open(name, "w", force_zip64=True) as entry:
            block = b" " * (1 << 20)
            for _ in range(50):
                entry.write(block)
    return buffer.getvalue()


WRONG_TYPES = [
    ("letter.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "not UTF-8"),
    ("photo.png", bytes.fromhex("89504e470d0a1a0a0000000d49484452"), "not UTF-8"),
    ("setup.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff", "not UTF-8"),
    ("page.html", b"<!doctype html><html><body><script>alert(1)</script></body></html>", "not recognised"),
    ("people.xml", b"<?xml version='1.0'?><persons><person name='A'/></persons>", "not recognised"),
    ("people.xlsx", b"PK\x03\x04" + b"\x14\x00" * 20, "spreadsheet"),
    ("people.json", b"\xff\xfe{\x00\"\x00", "not UTF-8"),  # UTF-16
    ("people.csv", b"name\n\xff\xfeAda\n", "line 2"),
]


def test_files_of_the_wrong_type_are_refused_with_what_is_wrong(api, session):
    for filename, content, expected in WRONG_TYPES:
        problem = _refused(api, session, content, filename)
        assert expected in _messages(problem), (filename, problem)


def test_compressed_uploads_are_refused_unread_however_they_are_named(api, session):
    gz, zipped = _gzip_bomb(), _zip_bomb("people.json")
    assert len(gz) < 2 * (1 << 20) and len(zipped) < 2 * (1 << 20)
    for filename, content, kind in [("people.json.gz", gz, "gzip"), ("people.json", gz, "gzip"),
                                    ("people.csv", gz, "gzip"), ("people.zip", zipped, "zip"),
                                    ("legislators.yaml", zipped, "zip")]:
        problem = _refused(api, session, content, filename)
        assert f"compressed ({kind})" in problem["detail"] and "Extract it" in problem["detail"], problem
    # The CSV preview page and a format given explicitly read nothing either.
    problem = _refused(api, session, gz, "people.csv", fmt="csv")
    assert "compressed (gzip)" in problem["detail"]


def test_a_gzip_encoded_request_body_is_not_inflated(api, session):
    body = io.BytesIO()
    boundary = "cosignboundary"
    body.write(f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"people.json\"\r\n"
               f"Content-Type: application/json\r\n\r\n".encode() + GOOD + f"\r\n--{boundary}--\r\n".encode())
    before = _totals(session)
    answer = api.post("/api/v1/imports", content=gzip.compress(body.getvalue()),
                      headers={"Content-Type": f"multipart/form-data; boundary={boundary}",
                               "Content-Encoding": "gzip"})
    assert 400 <= answer.status_code < 500, answer.text[:500]
    assert _totals(session) == before


# --- alias bombs and deep nesting ------------------------------------------------------------


def _laughs(levels: int = 9, width: int = 10) -> str:
    lines = ["l0: &l0 [" + ", ".join(["lol"] * width) + "]"]
    lines += [f"l{n}: &l{n} [" + ", ".join([f"*l{n - 1}"] * width) + "]" for n in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


def _legislators_bomb() -> str:
    """A legislators file whose name expands to 10^8 strings when read as text."""
    anchors = "\n".join(["    l0: &l0 [" + ", ".join(["lol"] * 10) + "]"]
                        + [f"    l{n}: &l{n} [" + ", ".join([f"*l{n - 1}"] * 10) + "]" for n in range(1, 8)])
    return ("- id: {bioguide: X000001}\n  name:\n" + anchors + "\n    first: Ada\n    last: *l7\n"
            "  terms: [{type: rep, state: CA, district: 1, start: '2021-01-03'}]\n")


ALIAS_BOMBS = [
    ("laughs.yaml", _laughs(), "auto"),
    ("legislators-current.yaml", _legislators_bomb(), "auto"),
    ("legislators-current.yaml", _legislators_bomb(), "us-congress"),
    ("legislators.yml", "- &a [*a, *a]\n", "us-congress"),  # an alias to itself
    ("legislators.yaml", "- &p {id: {bioguide: X1}, name: {official_full: Ada}, terms: [{type: rep}]}\n- *p\n",
     "us-congress"),
]


def test_yaml_alias_bombs_are_refused_before_anything_expands_them(api, session):
    for filename, content, fmt in ALIAS_BOMBS:
        problem = _refused(api, session, content.encode(), filename, fmt=fmt)
        assert "YAML aliases" in problem["detail"], (filename, problem)


NESTED = [
    ("deep.json", "[" * 100_000 + "]" * 100_000, "auto"),
    ("deep.json", '{"persons": [{"name": ' + "[" * 900 + "]" * 900 + "}]}", "popolo"),  # under Python's limit
    ("deep.yaml", "a: " + "[" * 500 + "]" * 500 + "\n", "auto"),
    ("legislators.yaml", "- " + "{a: " * 200 + "1" + "}" * 200 + "\n", "us-congress"),
    ("meps.json", '[{"epid": 1, "first_name": ' + "[" * 5000 + "]" * 5000 + "}]", "ep-meps"),
]


def test_deeply_nested_files_are_refused(api, session):
    for filename, content, fmt in NESTED:
        problem = _refused(api, session, content.encode(), filename, fmt=fmt)
        assert "nested more than" in problem["detail"] or "nesting depth" in _messages(problem), (filename, problem)


# --- enormous CSV cells and lines, NUL characters ----------------------------------------------


ENORMOUS_CSV = [
    ("huge-cell.csv", 'name,email\n"' + "x" * 300_000 + '",a@example.org\n', "line 2"),
    ("huge-unquoted-cell.csv", "name,email\n" + "x" * 1_000_000 + ",a@example.org\n", "line 2"),
    ("huge-header.csv", 'name,"' + "h" * 300_000 + '"\nAda,1\n', "line 1"),
    ("huge-line.csv", "name,email\n" + "a," * 2_000_000 + "\n", "line 2"),
    ("no-newlines.csv", "name," + "x" * 5_000_000, "line 1"),
    ("open-quote.csv", 'name,email\n"Ada,ada@example.org\nBob,bob@example.org\n', "line"),
    ("long-name.csv", "name\n" + "N" * 5_000 + "\n", "line 2.name"),
    ("meps.csv", "dxid,country,first_name,last_name,email,eugroup,party,epid\n1,DE,\"" + "x" * 300_000
     + "\",Y,y@example.org,EPP,CDU,1\n", "line 2: not a readable CSV: a cell is longer than"),
]


def test_csv_with_an_enormous_cell_or_line_is_refused_by_line(api, session):
    for filename, content, where in ENORMOUS_CSV:
        problem = _refused(api, session, content.encode(), filename)
        assert where in _messages(problem), (filename, problem)


def test_the_csv_preview_page_refuses_an_enormous_header_without_an_error_page(client, session):
    login(client, make_user(session, role=Role.staff))
    token = csrf_from(client.get("/people/import").text)
    answer = client.post("/people/import", data={"csrf_token": token, "format": "auto"},
                         files={"file": ("big.csv", b'name,"' + b"h" * 300_000 + b'"\nAda,1\n', "text/csv")})
    assert answer.status_code == 422 and "header row is not a readable CSV" in answer.text


NUL = [
    ("people.csv", b"name,email\nAda\x00Lovelace,ada@example.org\n", "line 2"),
    ("people.json", _popolo([{"id": "x1", "name": "Ada\\u0000Lovelace"}]).replace(b"\\\\u0000", b"\\u0000"), "NUL"),
    ("legislators.yaml", b"- id: {bioguide: X1}\n  name: {official_full: \"Ada\\0\"}\n  terms: [{type: rep}]\n", "NUL"),
]


def test_nul_characters_are_refused_not_stored(api, session):
    for filename, content, where in NUL:
        problem = _refused(api, session, content, filename)
        assert where in _messages(problem) and "NUL" in _messages(problem), (filename, problem)


# --- all or nothing --------------------------------------------------------------------------


def _csv_rows(bad_line: int, bad: str) -> bytes:
    rows = ["name,email,organization,party,identifier:test_id"]
    for line in range(2, 502):
        rows.append(bad if line == bad_line else
                    f"Member {line},m{line}@example.org,Test Assembly,Party {line % 3},id-{line}")
    return ("\n".join(rows) + "\n").encode()


BAD_LINE_400 = [
    ("bad e-mail", "Member 400,not-an-address,Test Assembly,Party 1,id-400", "line 400.email"),
    ("bad date", None, "persons[398].birth_date"),
    ("name too long for the column", "N" * 301 + ",m@example.org,Test Assembly,Party 1,id-400", "line 400.name"),
    ("identifier too long", "Member 400,m400@example.org,Test Assembly,Party 1," + "i" * 301, "line 400.identifiers"),
    ("organisation name too long", "Member 400,m400@example.org," + "O" * 301 + ",Party 1,id-400",
     ".name"),
    ("duplicate identifier", "Member 400,m400@example.org,Test Assembly,Party 1,id-399", "line 400.identifiers"),
    ("missing cell", "Member 400,m400@example.org,Test Assembly", "line 400"),
    ("organisation identifier too long", "org-identifier", "organization big.identifiers"),
]


def test_a_file_bad_on_line_400_writes_nothing_and_the_same_file_fixed_imports_whole(api, session):
    for case, bad, where in BAD_LINE_400:
        if bad is None:
            persons = [{"id": f"p{n}", "name": f"Member {n}", "birth_date": "1970-01-01"} for n in range(500)]
            persons[398]["birth_date"] = "yesterday"
            problem = _refused(api, session, _popolo(persons), "people.json")
        elif bad == "org-identifier":
            document = json.loads(_popolo([{"id": f"p{n}", "name": f"Member {n}"} for n in range(500)]))
            document["organizations"].append({"id": "big", "name": "Big", "classification": "party",
                                              "identifiers": [{"scheme": "wikidata", "identifier": "Q" * 301}]})
            problem = _refused(api, session, json.dumps(document).encode(), "people.json")
        else:
            problem = _refused(api, session, _csv_rows(400, bad), "people.csv", fmt="csv")
        assert where in _messages(problem), (case, problem)
        assert "nothing was imported" in problem["detail"].lower(), (case, problem)
    done = api.post("/api/v1/imports", data={"format": "csv"},
                    files={"file": ("people.csv", _csv_rows(0, ""), "text/csv")})
    assert done.status_code == 200, done.text[:1000]
    assert done.json()["created"] == 500
