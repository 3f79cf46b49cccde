"""import: a Popolo file of N people through Cosign's importer, against a bare parse-and-bulk-insert.

The file repeats the real UK Commons Popolo file (../shared/data/uk-commons/) with new ids
for persons, organisations and memberships in every copy (and organisation names that
differ, so each copy is a new parliament). Cosign: ``contacts.imports.import_file`` into
an empty database, commit included. Baseline, in the same run on its own empty database:
``json.loads`` of the same file and the same person, organisation, identifier and
membership rows written with the driver's fastest bulk path (COPY on PostgreSQL through
psycopg's ``cursor.copy``, one executemany transaction on SQLite), commit included.

    python -m bench.import_people [--size 50000] [--backend sqlite postgresql]
"""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from bench import common
from bench.run_all import standalone

DEFAULT_SIZE = 50_000
SOURCE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "uk-commons" / "uk-commons-current-popolo.json"
PERSON_COLUMNS = ("id", "name", "given_name", "family_name", "sort_name", "honorific_prefix", "honorific_suffix",
                  "other_names", "email", "emails", "phones", "addresses", "links", "image_url", "gender",
                  "birth_date", "search_name", "sort_key", "notes", "created_at", "updated_at")
ORG_COLUMNS = ("id", "name", "abbreviation", "classification", "parent_id", "country", "url", "created_at",
               "updated_at")
IDENTIFIER_COLUMNS = ("scheme", "value", "person_id", "organization_id")
MEMBERSHIP_COLUMNS = ("person_id", "organization_id", "role", "post_label", "post_id", "on_behalf_of_id", "country",
                      "start_date", "end_date", "created_at")
_CLASSIFICATION = {"legislature": "parliament", "party": "party"}


def make_file(size: int, path: Path, *, new_organizations: bool = True) -> Path:
    """The real file repeated until it has ``size`` people, every copy with its own ids.

    With ``new_organizations=False`` the copies share the file's chamber and parties.
    """
    source = json.loads(SOURCE.read_text())
    per_copy = len(source["persons"])
    persons, organizations, memberships = [], [], []
    for copy in range(math.ceil(size / per_copy)):
        def org_id(key: str | None) -> str | None:
            return f"{key}#{copy}" if key and new_organizations else key

        if new_organizations or copy == 0:
            for org in source["organizations"]:
                organizations.append({**org, "id": org_id(org["id"]),
                                      "name": f"{org['name']} {copy}" if new_organizations else org["name"]})
        wanted = min(per_copy, size - copy * per_copy)
        kept = set()
        for person in source["persons"][:wanted]:
            kept.add(person["id"])
            persons.append({**person, "id": f"{person['id']}#{copy}",
                            "identifiers": [{**i, "identifier": f"{i['identifier']}#{copy}"}
                                            for i in person.get("identifiers") or []]})
        for membership in source["memberships"]:
            if membership["person_id"] in kept:
                memberships.append({**membership, "id": f"{membership['id']}#{copy}",
                                    "person_id": f"{membership['person_id']}#{copy}",
                                    "organization_id": org_id(membership.get("organization_id")),
                                    "on_behalf_of_id": org_id(membership.get("on_behalf_of_id"))})
    data = {"meta": source.get("meta", {}), "persons": persons, "organizations": organizations,
            "posts": source["posts"], "memberships": memberships}
    path.write_text(json.dumps(data))
    return path


def _cosign(path: Path) -> int:
    from campaign.db import session_scope
    from contacts.imports import import_file

    with session_scope() as session:
        report = import_file(session, path=path, actor="bench")
    return report.created


def _cosign_timed(path: Path) -> tuple[float, float]:
    """The import's time and the peak memory of the process that ran it."""
    import campaign.tables  # noqa: F401  (every model, as the CLI loads them)
    import contacts.imports  # noqa: F401  (imported before the timing: FastAPI and the models load once)

    return common.timed(lambda: _cosign(path)), common.own_peak_rss_mb()


def _baseline_rows(path: Path, now: datetime) -> tuple[list[tuple], list[tuple], list[tuple], list[tuple]]:
    """Parse the file and build the same rows the importer writes, in database column order."""
    data = json.loads(path.read_bytes())
    org_ids = {org["id"]: number for number, org in enumerate(data["organizations"], start=1)}
    orgs = [(org_ids[o["id"]], o["name"], "", _CLASSIFICATION.get(o.get("classification", ""), "other"), None, "", "",
             now, now) for o in data["organizations"]]
    posts = {post["id"]: post for post in data.get("posts") or []}
    people, identifiers, person_ids = [], [], {}
    for number, p in enumerate(data["persons"], start=1):
        person_ids[p["id"]] = number
        emails = [d["value"] for d in p.get("contact_details") or [] if d.get("type") == "email"]
        links = [{"note": d["type"], "url": d["value"]} for d in p.get("contact_details") or []
                 if d.get("type") != "email"]
        links += [{"note": link.get("note", ""), "url": link["url"]} for link in p.get("links") or []]
        name = p["name"]
        words = name.lower().split()
        people.append((number, name, p.get("given_name", ""), p.get("family_name", ""), p.get("sort_name", ""), "",
                       "", "[]", emails[0] if emails else "", json.dumps(emails), "[]", "[]", json.dumps(links),
                       p.get("image", ""), p.get("gender", ""), None, name.lower(), " ".join(words[-1:] + words[:-1]),
                       "", now, now))
        for i in p.get("identifiers") or []:
            if i["scheme"] != "pcon_code":
                identifiers.append((i["scheme"], i["identifier"], number, None))
        identifiers.append(("popolo_id", p["id"], number, None))
    memberships = []
    for m in data["memberships"]:
        post = posts.get(m.get("post_id"), {})
        memberships.append((person_ids[m["person_id"]], org_ids[m["organization_id"]], m.get("role") or "",
                            post.get("label", ""), (post.get("area") or {}).get("pcon_code", ""),
                            org_ids.get(m.get("on_behalf_of_id")), "", m.get("start_date"), m.get("end_date"), now))
    return orgs, people, identifiers, memberships


def _baseline(engine, path: Path) -> int:
    now = datetime.now(UTC)
    tables = list(zip(("organization", "person", "identifier", "membership"),
                      (ORG_COLUMNS, PERSON_COLUMNS, IDENTIFIER_COLUMNS, MEMBERSHIP_COLUMNS),
                      _baseline_rows(path, now)))
    connection = engine.raw_connection()
    try:
        if engine.dialect.name == "postgresql":
            with connection.cursor() as cursor:
                for table, columns, rows in tables:
                    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
            connection.commit()
        else:
            def plain(value: Any) -> Any:
                if isinstance(value, datetime):
                    return value.strftime("%Y-%m-%d %H:%M:%S.%f")
                return value.isoformat() if isinstance(value, date) else value

            cursor = connection.cursor()
            cursor.execute("BEGIN")
            for table, columns, rows in tables:
                cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                                   ([plain(v) for v in row] for row in rows))
            cursor.execute("COMMIT")
            cursor.close()
    finally:
        connection.close()
    return len(tables[1][2])


def _count_people(engine) -> int:
    import sqlalchemy as sa

    with engine.connect() as connection:
        return connection.execute(sa.text("SELECT count(*) FROM person")).scalar_one()


def run(backend: str, size: int, work_dir: Path) -> tuple[list[common.Result], dict[str, float]]:
    from campaign import migrate

    path = make_file(size, work_dir / f"popolo-{size}.json")
    megabytes = path.stat().st_size / 1e6
    timings = {}
    for which in ("baseline", "cosign"):
        with common.environment(backend, work_dir, f"import_{which}") as env:
            Path(env["VAR_DIR"]).mkdir(parents=True)
            with common.applied(env):
                from campaign.db import get_engine

                engine = get_engine()
                migrate.upgrade(engine=engine)
                if which == "baseline":
                    timings[which] = common.timed(lambda: _baseline(engine, path))
                else:
                    timings[which], importer_memory = common.in_fresh_process(_cosign_timed, path)
                found = _count_people(engine)
                assert found == size, f"{which} wrote {found} people, not {size}"
                engine.dispose()
        print(f"    {which}: {size:,} people in {timings[which]:.2f} s", flush=True)
    notes = (f"{size:,} people ({megabytes:.0f} MB of Popolo JSON), parse + write + commit into an empty database; "
             f"Cosign {size / timings['cosign']:,.0f} people/s, baseline {size / timings['baseline']:,.0f} people/s")
    result = common.Result("import", backend, timings["cosign"], timings["baseline"], "s", False, 3.0, 1.5, notes)
    return [result], {"import (the process that imports)": importer_memory}


if __name__ == "__main__":
    standalone("import_people", DEFAULT_SIZE, run)
