"""A large Popolo JSON file is read as a stream and written a chunk at a time, all or nothing."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from contacts import imports
from contacts.imports import import_file, parse_file
from contacts.imports.core import apply_dataset
from contacts.models import Identifier, Membership, Organization, Person
from tests.contacts.conftest import UK_POPOLO
from tests.contacts.test_imports_refused import _refused

# More than two chunks of people (the importer writes 1,000 at a time).
SIZE = 2_300


def _copies(size: int = SIZE) -> dict:
    """The UK Commons file repeated to ``size`` people, each copy with its own ids and parliament."""
    source = json.loads(UK_POPOLO.read_text())
    persons, organizations, memberships = [], [], []
    copy = 0
    while len(persons) < size:
        wanted = {p["id"] for p in source["persons"][:size - len(persons)]}
        organizations += [{**o, "id": f"{o['id']}#{copy}", "name": f"{o['name']} {copy}"}
                          for o in source["organizations"]]
        persons += [{**p, "id": f"{p['id']}#{copy}",
                     "identifiers": [{**i, "identifier": f"{i['identifier']}#{copy}"} for i in p.get("identifiers", [])]}
                    for p in source["persons"] if p["id"] in wanted]
        memberships += [{**m, "person_id": f"{m['person_id']}#{copy}", "organization_id": f"{m['organization_id']}#{copy}",
                         "on_behalf_of_id": f"{m['on_behalf_of_id']}#{copy}"}
                        for m in source["memberships"] if m["person_id"] in wanted]
        copy += 1
    return {"meta": source["meta"], "persons": persons, "organizations": organizations, "posts": source["posts"],
            "memberships": memberships}


@pytest.fixture(scope="module")
def big() -> dict:
    return _copies()


def _write(tmp_path, data, name="people.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def _totals(session):
    return tuple(session.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
                 for table in (Person, Organization, Membership, Identifier))


def _contents(session):
    """Everything an import wrote, without row ids or times."""
    orgs = {o.id: o.name for o in session.execute(sa.select(Organization)).scalars()}
    people = {p.id: p for p in session.execute(sa.select(Person)).scalars()}
    return (sorted(orgs.values()),
            sorted((p.name, p.email, json.dumps(p.links), p.sort_key, p.search_name) for p in people.values()),
            sorted((i.scheme, i.value, people[i.person_id].name) for i in session.execute(
                sa.select(Identifier).where(Identifier.person_id.is_not(None))).scalars()),
            sorted((people[m.person_id].name, orgs[m.organization_id], m.role, m.post_label, m.post_id,
                    orgs.get(m.on_behalf_of_id)) for m in session.execute(sa.select(Membership)).scalars()))


def test_a_large_file_imports_as_it_did_when_read_whole(session, tmp_path, big):
    path = _write(tmp_path, big)
    savepoint = session.begin_nested()
    whole = apply_dataset(session, parse_file(path=path, country="GB"), actor="tests")
    written_whole = _contents(session)
    savepoint.rollback()

    streamed = import_file(session, path=path, country="GB", actor="tests")
    assert streamed.as_dict() == whole.as_dict()
    assert (streamed.created, streamed.memberships_created) == (SIZE, SIZE)
    assert streamed.organizations_created == 19 * 4
    assert len(streamed.warnings) == sum("No email found" in json.dumps(p) for p in big["persons"]) > 4
    assert _contents(session) == written_whole
    identifiers = sum(1 + sum(i["scheme"] != "pcon_code" for i in p["identifiers"]) for p in big["persons"])
    assert _totals(session) == (SIZE, 19 * 4, SIZE, identifiers)

    again = import_file(session, path=path, country="GB", actor="tests")
    assert (again.created, again.updated, again.unchanged, again.memberships_created) == (0, 0, SIZE, 0)


def test_the_popolo_json_path_never_parses_the_file_whole(session, tmp_path, big, monkeypatch):
    def whole_read(*args, **kwargs):
        raise AssertionError("the Popolo file was parsed whole")

    monkeypatch.setattr(imports.json, "loads", whole_read)
    report = import_file(session, content=json.dumps(big).encode(), filename="upload", actor="tests")
    assert report.created == SIZE


def test_a_problem_in_the_last_person_writes_nothing_and_is_reported_by_index(session, tmp_path, big):
    data = json.loads(json.dumps(big))
    last = SIZE - 1
    data["persons"][last]["name"] = " "
    data["persons"][last - 1]["birth_date"] = "yesterday"
    assert _refused(session, path=_write(tmp_path, data)) == [
        (f"persons[{last - 1}].birth_date", "'yesterday' is not a date (expected YYYY-MM-DD)"),
        (f"persons[{last}].name", "missing: every person needs a name"),
        # Its membership then names nobody, as when the file was read whole.
        (f"memberships[{last}].person_id", f"no person with id {data['persons'][last]['id']!r}")]


def test_a_clash_found_after_chunks_were_written_undoes_them(session, tmp_path, big):
    data = json.loads(json.dumps(big))
    data["persons"][-1]["identifiers"] = data["persons"][0]["identifiers"]
    errors = _refused(session, path=_write(tmp_path, data))
    scheme, value = data["persons"][0]["identifiers"][0]["scheme"], data["persons"][0]["identifiers"][0]["identifier"]
    assert (f"persons[{SIZE - 1}].identifiers", f"{scheme} {value} is also given to persons[0]") in errors


def test_every_problem_is_listed_in_file_order_whatever_the_order_of_the_parts(session, tmp_path, big):
    data = json.loads(json.dumps(big))
    data["memberships"][3]["organization_id"] = "nowhere"
    data["memberships"][2000]["start_date"] = "31/12/2020"
    data["persons"][1500] = "not a person"
    data["organizations"][5]["name"] = ""
    expected = [("organizations[5].name", "missing"), ("persons[1500]", "must be an object"),
                ("memberships[3].organization_id", "no organisation with id 'nowhere'"),
                ("memberships[1500].person_id", f"no person with id {big['persons'][1500]['id']!r}"),
                ("memberships[2000].start_date", "'31/12/2020' is not a date (expected YYYY-MM-DD)")]
    assert _refused(session, path=_write(tmp_path, data)) == expected
    backwards = {key: data[key] for key in reversed(list(data))}
    assert _refused(session, path=_write(tmp_path, backwards, "backwards.json")) == expected


@pytest.mark.parametrize("order", [["memberships", "posts", "persons", "organizations", "meta"],
                                   ["persons", "memberships", "organizations", "posts", "meta"]])
def test_the_parts_of_the_file_can_come_in_any_order(session, tmp_path, big, order):
    report = import_file(session, path=_write(tmp_path, {key: big[key] for key in order}), country="GB",
                         actor="tests")
    assert (report.created, report.memberships_created, report.organizations_created) == (SIZE, SIZE, 19 * 4)
    labour = session.execute(sa.select(Organization).where(Organization.name == "Labour 0")).scalar_one()
    assert session.execute(sa.select(sa.func.count()).select_from(Membership).where(
        Membership.on_behalf_of_id == labour.id)).scalar_one() == 360


def test_a_large_file_broken_near_its_end_gives_the_line_and_column(session, tmp_path, big):
    text = json.dumps(big, indent=1)
    at = text.rindex('"person_id"')
    broken = text[:at] + text[at:].replace(":", "", 1)  # a key without its colon, in the last membership
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(broken)
    path = tmp_path / "broken.json"
    path.write_text(broken)
    assert _refused(session, path=path) == [(f"line {expected.value.lineno}, column {expected.value.colno}",
                                             "Expecting ':' delimiter")]


def test_the_stream_keeps_the_nul_and_depth_refusals(session, tmp_path, big):
    data = json.loads(json.dumps(big))
    data["persons"][2000]["name"] = "Ada\u0000Lovelace"
    assert _refused(session, path=_write(tmp_path, data)) == [("file", "NUL character")]
    data = json.loads(json.dumps(big))
    deep: list = []
    for _ in range(imports.MAX_DEPTH + 5):
        deep = [deep]
    data["persons"][2000]["links"] = deep
    assert _refused(session, path=_write(tmp_path, data)) == [("file", f"nested more than {imports.MAX_DEPTH} levels")]


def test_persons_given_twice_are_refused(session):
    content = b'{"persons": [{"name": "A"}], "organizations": [], "persons": [{"name": "B"}]}'
    assert _refused(session, content=content, filename="twice.json") == [("persons", "given more than once")]


def test_a_file_with_a_byte_order_mark_reports_progress_to_the_end(session, tmp_path, big):
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(big).encode())
    ticks: list[tuple[int, int]] = []
    report = import_file(session, path=path, actor="tests", progress=lambda done, total: ticks.append((done, total)))
    assert report.created == SIZE
    assert ticks[0] == (0, SIZE) and ticks[-1] == (SIZE, SIZE) and len(ticks) > 3


class _ReadSizes:
    """An uploaded file that notes the size of every read."""

    def __init__(self, data: bytes):
        import io

        self.file = io.BytesIO(data)
        self.reads: list[int] = []

    def read(self, size: int = -1) -> bytes:
        chunk = self.file.read(size)
        self.reads.append(len(chunk))
        return chunk

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.file.seek(offset, whence)

    def tell(self) -> int:
        return self.file.tell()


def test_an_uploaded_popolo_file_is_streamed_not_read_into_memory(session, big):
    data = json.dumps(big).encode()
    assert len(data) > 2 << 20
    upload = _ReadSizes(data)
    report = import_file(session, upload=upload, filename="people.json")
    assert report.created == SIZE
    assert max(upload.reads) <= 1 << 20  # read a block at a time, never the whole file at once


def test_an_uploaded_file_of_another_format_is_still_read_whole(session):
    upload = _ReadSizes(b"name,email\nJane Doe,jane@example.org\n")
    report = import_file(session, upload=upload, filename="contacts.csv")
    assert report.created == 1


def test_a_top_level_key_named_like_a_persons_item_adds_nobody(session):
    """ijson's path for an item of "persons" is "persons.item", as is a top-level key so named."""
    data = {"persons": [{"id": "a", "name": "Alice Example"}],
            "persons.item": {"id": "z", "name": "Not A Person"}, "organizations": [], "memberships": []}
    report = import_file(session, content=json.dumps(data).encode(), filename="people.json")
    assert report.created == 1
    names = session.execute(sa.select(Person.name)).scalars().all()
    assert "Alice Example" in names and "Not A Person" not in names
