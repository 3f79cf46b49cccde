"""What every importer shares: the records a parser produces, and applying them in bulk.

A parser reads a source file into a ``Dataset`` (organisations, people with their
identifiers and memberships) and lists every problem it finds with the record or line
and the field. Nothing is written unless the whole file is clean. Applying a dataset
matches people by identifier first, then by name within the same organisation, so a
re-import updates rows in place; rows are written with executemany-style bulk
statements, not one ORM object at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
import csv
from dataclasses import dataclass, field
from functools import lru_cache
import json
import re
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from campaign import audit
from campaign.db import UTCDateTime, utcnow
from campaign.errors import Conflict, FieldError, InvalidInput
from contacts.models import (Identifier, Membership, OrgClassification, Organization, Person, PersonTag,
                             normalise_name)

Progress = Callable[[int, int], None]  # (done, total)

PERSON_FIELDS = ("name", "given_name", "family_name", "sort_name", "honorific_prefix", "honorific_suffix",
                 "other_names", "email", "emails", "phones", "addresses", "links", "image_url", "gender",
                 "birth_date")
_LIST_FIELDS = {"other_names", "emails", "phones", "addresses", "links"}
_CHUNK = 1000


@dataclass
class OrgRecord:
    key: str
    name: str
    classification: OrgClassification
    parent_key: str | None = None
    country: str = ""
    abbreviation: str = ""
    url: str = ""
    identifiers: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class MembershipRecord:
    org_key: str
    role: str = ""
    post_label: str = ""
    post_id: str = ""
    on_behalf_of_key: str | None = None
    country: str = ""
    start_date: date | None = None
    end_date: date | None = None


@dataclass
class PersonRecord:
    ref: str  # where it is in the file: "record 12", "line 7"
    values: dict[str, Any]
    identifiers: list[tuple[str, str]] = field(default_factory=list)
    memberships: list[MembershipRecord] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)


@dataclass
class Dataset:
    source: str
    organizations: dict[str, OrgRecord] = field(default_factory=dict)
    people: list[PersonRecord] = field(default_factory=list)
    problems: list[FieldError] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)

    def problem(self, loc: str, msg: str) -> None:
        self.problems.append(FieldError(loc, msg))

    def add_org(self, record: OrgRecord) -> OrgRecord:
        return self.organizations.setdefault(record.key, record)


@dataclass
class ImportReport:
    source: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    organizations_created: int = 0
    organizations_updated: int = 0
    memberships_created: int = 0
    memberships_updated: int = 0
    memberships_ended: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "created": self.created, "updated": self.updated,
                "unchanged": self.unchanged, "skipped": [{"ref": r, "reason": why} for r, why in self.skipped],
                "warnings": [{"ref": r, "reason": why} for r, why in self.warnings],
                "organizations_created": self.organizations_created,
                "organizations_updated": self.organizations_updated,
                "memberships_created": self.memberships_created, "memberships_updated": self.memberships_updated,
                "memberships_ended": self.memberships_ended}

    def summary(self) -> str:
        return (f"{self.source}: {self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
                f"{len(self.skipped)} skipped; organisations {self.organizations_created} created, "
                f"{self.organizations_updated} updated; memberships {self.memberships_created} created, "
                f"{self.memberships_updated} updated, {self.memberships_ended} ended")


# --- small parsing helpers shared by the parsers -------------------------------------


def text(value: Any) -> str:
    if value.__class__ is str:
        return value.strip()
    return "" if value is None else str(value).strip()


def parse_date(dataset: Dataset, loc: str, value: Any) -> date | None:
    """An ISO date, a YAML date, or empty; anything else is a problem recorded at ``loc``."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raw = str(value).strip()
    try:
        return date.fromisoformat(raw[:10]) if len(raw) >= 10 and raw[10:11] in ("", "T", " ") else date.fromisoformat(raw)
    except ValueError:
        dataset.problem(loc, f"{raw!r} is not a date (expected YYYY-MM-DD)")
        return None


def readable_rows(reader: Any, dataset: Dataset) -> Iterable[list[str]]:
    """The rows of a csv.reader; a row it cannot read ends the file with a problem at its line."""
    try:
        yield from reader
    except csv.Error as error:
        message = str(error)
        if "field larger than field limit" in message:
            message = f"a cell is longer than {csv.field_size_limit():,} characters (is a quote left open?)"
        dataset.problem(f"line {reader.line_num}", f"not a readable CSV: {message}")


def data_lines(dataset: Dataset, header: list[str], rows: Iterable[list[str]]) -> Iterable[tuple[int, list[str]]]:
    """Each non-blank row after the header with its line number; a row with the wrong number of
    cells is a problem at its line and is left out."""
    for line, cells in enumerate(rows, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            dataset.problem(f"line {line}", f"{len(cells)} cells where the header has {len(header)}")
            continue
        yield line, cells


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def looks_like_email(value: str) -> bool:
    return bool(_EMAIL.match(value))


def usable_emails(dataset: Dataset, loc: str, values: list[str]) -> list[str]:
    """The addresses that are addresses; publishers put notes like 'No email found' in the field."""
    kept = []
    for value in values:
        if looks_like_email(value):
            kept.append(value)
        elif value:
            dataset.warnings.append((f"{loc}.email", f"{value!r} is not an e-mail address; left out"))
    return list(dict.fromkeys(kept))


def person_values(**values: Any) -> dict[str, Any]:
    """A complete set of person fields, defaults filled in and derived names computed."""
    row: dict[str, Any] = {name: ([] if name in _LIST_FIELDS else None if name == "birth_date" else "")
                           for name in PERSON_FIELDS}
    for key, value in values.items():
        if key not in row:
            raise KeyError(key)
        if value is not None:
            row[key] = value if key in _LIST_FIELDS or key == "birth_date" else str(value).strip()
    if not row["email"] and row["emails"]:
        row["email"] = row["emails"][0]
    if row["email"] and row["email"] not in row["emails"]:
        row["emails"] = [row["email"], *row["emails"]]
    return row


def derived_names(values: dict[str, Any]) -> dict[str, str]:
    """search_name and sort_key, computed the same way for every source."""
    plain = normalise_name(values.get("name") or "")
    others = values.get("other_names")
    search = " ".join(filter(None, [plain, *(normalise_name(n) for n in others)])) if others else plain
    if values.get("sort_name"):
        sort = normalise_name(values["sort_name"])
    elif values.get("family_name"):
        sort = normalise_name(f"{values['family_name']} {values.get('given_name') or ''}")
    else:
        words = plain.split()
        sort = " ".join(words[-1:] + words[:-1])
    return {"search_name": search[:600], "sort_key": sort[:300]}


# --- applying a dataset ----------------------------------------------------------------


def _chunks(items: list[Any], size: int = _CHUNK) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _resolve_organizations(session: Session, dataset: Dataset, report: ImportReport) -> dict[str, int]:
    """Find or create each organisation of the dataset; few enough for one at a time."""
    resolved: dict[str, int] = {}
    now = utcnow()
    pending = list(dataset.organizations.values())
    # Parents first, whatever order the file gave them in.
    while pending:
        ready = [o for o in pending if o.parent_key is None or o.parent_key in resolved
                 or o.parent_key not in dataset.organizations]
        if not ready:
            raise InvalidInput("The organisations' parents form a loop.",
                               errors=[FieldError(f"organization {o.key}", "parent loop") for o in pending])
        for record in ready:
            parent_id = resolved.get(record.parent_key) if record.parent_key else None
            org = _find_org(session, record, parent_id)
            if org is None:
                org = Organization(name=record.name, classification=record.classification, parent_id=parent_id,
                                   country=record.country, abbreviation=record.abbreviation, url=record.url)
                session.add(org)
                session.flush()
                report.organizations_created += 1
            else:
                changes = {"name": record.name, "classification": record.classification, "parent_id": parent_id,
                           "country": record.country or org.country,
                           "abbreviation": record.abbreviation or org.abbreviation, "url": record.url or org.url}
                if any(getattr(org, key) != value for key, value in changes.items()):
                    for key, value in changes.items():
                        setattr(org, key, value)
                    org.updated_at = now
                    report.organizations_updated += 1
            for scheme, value in record.identifiers:
                existing = session.execute(sa.select(Identifier).where(Identifier.scheme == scheme,
                                                                    Identifier.value == value)).scalars().first()
                if existing is None:
                    session.add(Identifier(scheme=scheme, value=value, organization_id=org.id))
            resolved[record.key] = org.id
        pending = [o for o in pending if o.key not in resolved]
    session.flush()
    return resolved


def _find_org(session: Session, record: OrgRecord, parent_id: int | None) -> Organization | None:
    for scheme, value in record.identifiers:
        found = session.execute(sa.select(Organization).join(Identifier, Identifier.organization_id == Organization.id)
                             .where(Identifier.scheme == scheme, Identifier.value == value)).scalars().first()
        if found is not None:
            return found
    query = sa.select(Organization).where(Organization.classification == record.classification,
                                          Organization.name == record.name)
    query = query.where(Organization.parent_id == parent_id) if parent_id else query.where(Organization.parent_id.is_(None))
    if record.country:
        query = query.where(Organization.country.in_([record.country, ""]))
    return session.execute(query.order_by(Organization.id)).scalars().first()


def _allocate_ids(session: Session, table: str, count: int) -> list[int]:
    """Primary keys for ``count`` new rows, known before they are inserted."""
    if count == 0:
        return []
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        return list(connection.execute(sa.text(
            f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, :n)"), {"n": count}
        ).scalars())
    # SQLite has one writer at a time; a concurrent writer that took these ids first
    # makes the insert fail on the key (reported as a conflict), never mixes rows.
    highest = connection.execute(sa.text(f"SELECT max(id) FROM {table}")).scalar() or 0
    return list(range(highest + 1, highest + 1 + count))


@lru_cache(maxsize=64)
def _sqlite_timestamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _bulk_insert(session: Session, table: sa.Table, columns: list[str], rows: list[dict[str, Any]]) -> None:
    """INSERT many rows through the DB-API cursor's executemany, values converted once here."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    sqlite = dialect.name == "sqlite"
    converters = []
    for name in columns:
        column_type = table.c[name].type
        if isinstance(column_type, sa.JSON):
            converters.append(lambda v: "[]" if v == [] else None if v is None else json.dumps(v))
        elif sqlite and isinstance(column_type, UTCDateTime):
            converters.append(_sqlite_timestamp)
        elif sqlite and isinstance(column_type, sa.Date):
            converters.append(lambda v: None if v is None else v.isoformat())
        else:
            converters.append(None)
    values = [tuple(row[name] if convert is None else convert(row[name])
                    for name, convert in zip(columns, converters)) for row in rows]
    if dialect.name == "postgresql":
        # COPY is PostgreSQL's bulk path; it runs inside the session's transaction.
        driver_connection = connection.connection.driver_connection
        with driver_connection.cursor() as cursor:
            with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
        return
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    statement = (f"INSERT INTO {table.name} ({', '.join(columns)}) "
                 f"VALUES ({', '.join(marker for _ in columns)})")
    connection.exec_driver_sql(statement, values)


def _membership_key(org_id: int, role: str, start: date | None) -> tuple[int, str, date | None]:
    return (org_id, role, start)


def apply_dataset(session: Session, dataset: Dataset, *, actor: Any = None,
                  progress: Progress | None = None) -> ImportReport:
    """Write a clean dataset; raises InvalidInput listing every problem (nothing written) otherwise."""
    problems = dataset.problems + _length_problems(dataset)
    if problems:
        raise InvalidInput(f"{dataset.source}: {len(problems)} problem(s); nothing was imported.", errors=problems)
    try:
        connection = session.connection()
    except sa.exc.OperationalError as error:
        if "locked" not in str(error):
            raise
        # SQLite: another writer held the database for longer than the busy timeout.
        raise Conflict("Another import or change is being written; nothing was imported. Try again in a moment.",
                       errors=[FieldError("file", "database busy")]) from None
    if connection.dialect.name == "postgresql":
        # One import at a time: a second one waits here until the first commits, then
        # reads what it wrote and matches it, instead of creating the same rows again.
        # (SQLite already has one writer at a time.)
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _IMPORT_LOCK})
    # A savepoint, so a problem found while matching undoes the organisations already
    # written even when the caller goes on to commit something else.
    try:
        with session.begin_nested():
            return _apply(session, dataset, actor=actor, progress=progress)
    except sa.exc.IntegrityError:
        raise Conflict("Another change to these people or organisations was saved at the same time; nothing was "
                       "imported. Try again.", errors=[FieldError("file", "concurrent change")]) from None


_IMPORT_LOCK = 0x636F6E74  # any fixed number: the advisory lock all imports share


def _column_limits(table: sa.Table) -> dict[str, int]:
    return {column.name: column.type.length for column in table.columns if getattr(column.type, "length", None)}


def _length_problems(dataset: Dataset) -> list[FieldError]:
    """Values longer than their column: refused by record and field, before anything is written."""
    problems = []
    person_limits = _column_limits(Person.__table__)
    identifier_limits = _column_limits(Identifier.__table__)
    org_limits = _column_limits(Organization.__table__)
    for person in dataset.people:
        for name, value in person.values.items():
            limit = person_limits.get(name)
            if limit and isinstance(value, str) and len(value) > limit:
                problems.append(FieldError(f"{person.ref}.{name}", f"longer than {limit:,} characters"))
        for scheme, value in person.identifiers:
            if len(scheme) > identifier_limits["scheme"] or len(value) > identifier_limits["value"]:
                problems.append(FieldError(f"{person.ref}.identifiers", f"{scheme[:40]!r} identifier longer than "
                                           f"{identifier_limits['value']:,} characters"))
    for org in dataset.organizations.values():
        for name in ("name", "abbreviation", "url"):
            value = getattr(org, name)
            if len(value) > org_limits[name]:
                problems.append(FieldError(f"organization {org.key[:80]}.{name}",
                                           f"longer than {org_limits[name]:,} characters"))
        for scheme, value in org.identifiers:
            if len(scheme) > identifier_limits["scheme"] or len(value) > identifier_limits["value"]:
                problems.append(FieldError(f"organization {org.key[:80]}.identifiers", f"{scheme[:40]!r} identifier "
                                           f"longer than {identifier_limits['value']:,} characters"))
    return problems


def _apply(session: Session, dataset: Dataset, *, actor: Any, progress: Progress | None) -> ImportReport:
    report = ImportReport(source=dataset.source, skipped=list(dataset.skipped), warnings=list(dataset.warnings))
    people = dataset.people
    total = len(people)
    tick = progress or (lambda done, total: None)
    tick(0, total)

    # Everything is read and matched before the first person row is written, so an
    # inconsistency found while matching still leaves the database untouched.
    org_ids = _resolve_organizations(session, dataset, report) if dataset.organizations else {}

    schemes = sorted({scheme for p in people for scheme, _ in p.identifiers})
    by_identifier: dict[tuple[str, str], int] = {}
    if schemes:
        rows = session.execute(sa.select(Identifier.scheme, Identifier.value, Identifier.person_id)
                               .where(Identifier.scheme.in_(schemes), Identifier.person_id.is_not(None)))
        by_identifier = {(s, v): pid for s, v, pid in rows}

    touched_orgs = sorted(set(org_ids.values()))
    by_name_in_org: dict[tuple[int, str], int] = {}
    if touched_orgs and any(not any(i in by_identifier for i in p.identifiers) for p in people):
        rows = session.execute(sa.select(Membership.organization_id, Person.name, Person.id)
                               .join(Person, Person.id == Membership.person_id)
                               .where(Membership.organization_id.in_(touched_orgs)))
        for org_id, name, person_id in rows:
            by_name_in_org.setdefault((org_id, normalise_name(name)), person_id)

    problems: list[FieldError] = []
    matched: list[int | None] = []
    claimed: dict[int, str] = {}
    seen_identifiers: dict[tuple[str, str], str] = {}
    for person in people:
        person_id = None
        for ident in person.identifiers:
            if ident in seen_identifiers:
                problems.append(FieldError(f"{person.ref}.identifiers",
                                           f"{ident[0]} {ident[1]} is also given to {seen_identifiers[ident]}"))
            seen_identifiers[ident] = person.ref
            found = by_identifier.get(ident)
            if found is not None and person_id is not None and found != person_id:
                problems.append(FieldError(f"{person.ref}.identifiers",
                                           f"{ident[0]} {ident[1]} belongs to another person (id {found})"))
            person_id = person_id or found
        if person_id is None and by_name_in_org:
            key_name = normalise_name(person.values["name"])
            for membership in person.memberships:
                person_id = by_name_in_org.get((org_ids[membership.org_key], key_name))
                if person_id is not None:
                    break
        if person_id is not None:
            if person_id in claimed:
                problems.append(FieldError(person.ref, f"matches the same person as {claimed[person_id]}"))
            claimed[person_id] = person.ref
        matched.append(person_id)
    if problems:
        raise InvalidInput(f"{dataset.source}: {len(problems)} problem(s); nothing was imported.", errors=problems)

    existing_ids = [pid for pid in matched if pid is not None]
    current: dict[int, dict[str, Any]] = {}
    memberships: dict[int, dict[tuple[int, str, date | None], dict[str, Any]]] = {}
    tags: set[tuple[int, str]] = set()
    person_columns = [getattr(Person, name) for name in PERSON_FIELDS]
    membership_columns = [Membership.id, Membership.person_id, Membership.organization_id, Membership.role,
                          Membership.post_label, Membership.post_id, Membership.on_behalf_of_id, Membership.country,
                          Membership.start_date, Membership.end_date]
    for chunk in _chunks(existing_ids):
        for row in session.execute(sa.select(Person.id, *person_columns).where(Person.id.in_(chunk))):
            current[row.id] = {name: getattr(row, name) for name in PERSON_FIELDS}
        for row in session.execute(sa.select(*membership_columns).where(Membership.person_id.in_(chunk))):
            memberships.setdefault(row.person_id, {})[_membership_key(row.organization_id, row.role, row.start_date)] = row._asdict()
        for row in session.execute(sa.select(PersonTag.person_id, PersonTag.tag).where(PersonTag.person_id.in_(chunk))):
            tags.add((row.person_id, row.tag))

    now = utcnow()
    today = now.date()
    new_people: list[tuple[int, PersonRecord]] = []
    person_updates: list[dict[str, Any]] = []
    for index, (person, person_id) in enumerate(zip(people, matched)):
        values = person.values
        if person_id is None:
            new_people.append((index, person))
        else:
            before = current[person_id]
            changed = any(values[name] != before[name] for name in PERSON_FIELDS)
            if changed:
                person_updates.append({"id": person_id, **values, **derived_names(values), "updated_at": now})

    # New people, their identifiers and memberships go in through the driver's own
    # executemany with values already in database form: this is the bulk of a large
    # import, and SQLAlchemy's per-row parameter processing would double its time.
    person_table = Person.__table__
    done = 0
    try:
        ids = _allocate_ids(session, "person", len(new_people))
        person_columns_all = [*PERSON_FIELDS, "search_name", "sort_key", "notes", "created_at", "updated_at"]
        for start in range(0, len(new_people), _CHUNK):
            chunk = new_people[start:start + _CHUNK]
            rows = []
            for offset, (index, p) in enumerate(chunk):
                new_id = ids[start + offset]
                matched[index] = new_id
                rows.append({**p.values, **derived_names(p.values), "id": new_id, "notes": "", "created_at": now,
                             "updated_at": now})
            _bulk_insert(session, person_table, ["id", *person_columns_all], rows)
            done += len(chunk)
            tick(done, total)
    except sa.exc.IntegrityError:
        raise Conflict("Another import changed these people at the same time; nothing was imported. Try again.",
                       errors=[FieldError("file", "concurrent import")]) from None
    report.created = len(new_people)
    for chunk in _chunks(person_updates):
        session.execute(sa.update(person_table).where(person_table.c.id == sa.bindparam("_id")),
                        [{**{k: v for k, v in row.items() if k != "id"}, "_id": row["id"]} for row in chunk])

    identifier_rows: list[dict[str, Any]] = []
    membership_rows: list[dict[str, Any]] = []
    membership_updates: list[dict[str, Any]] = []
    ended: list[int] = []
    tag_rows: list[dict[str, Any]] = []
    changed_people: set[int] = {row["id"] for row in person_updates}
    covered = set(touched_orgs)
    for person, person_id in zip(people, matched):
        assert person_id is not None
        for scheme, value in person.identifiers:
            if (scheme, value) not in by_identifier:
                identifier_rows.append({"scheme": scheme, "value": value, "person_id": person_id,
                                        "organization_id": None})
                by_identifier[(scheme, value)] = person_id
                changed_people.add(person_id)
        have = memberships.get(person_id, {})
        wanted: set[tuple[int, str, date | None]] = set()
        kept: set[int] = set()
        for m in person.memberships:
            org_id = org_ids[m.org_key]
            key = _membership_key(org_id, m.role, m.start_date)
            if key in wanted:
                continue
            wanted.add(key)
            values = {"post_label": m.post_label[:300], "post_id": m.post_id[:200],
                      "on_behalf_of_id": org_ids.get(m.on_behalf_of_key) if m.on_behalf_of_key else None,
                      "country": m.country, "end_date": m.end_date}
            old = have.get(key)
            if old is None or old["id"] in kept:
                # A source without start dates (a CSV) and one with them describe the same seat.
                old = next((o for k, o in have.items() if k[0] == org_id and k[1] == m.role and o["id"] not in kept
                            and (k[2] is None or m.start_date is None)), None)
            if old is not None:
                kept.add(old["id"])
                values["start_date"] = m.start_date if m.start_date is not None else old["start_date"]
            if old is None:
                membership_rows.append({"person_id": person_id, "organization_id": org_id, "role": m.role[:200],
                                        "start_date": m.start_date, "created_at": now, **values})
                report.memberships_created += 1
                changed_people.add(person_id)
            elif any(old[k] != v for k, v in values.items()):
                membership_updates.append({"_id": old["id"], **values})
                report.memberships_updated += 1
                changed_people.add(person_id)
        # A current membership of an organisation this file describes, that the file no
        # longer lists, has ended (a committee seat given up, a member who left).
        for key, old in have.items():
            if old["id"] not in kept and key[0] in covered and (old["end_date"] is None or old["end_date"] > today):
                ended.append(old["id"])
                changed_people.add(person_id)
        for tag in person.tags:
            if (person_id, tag) not in tags:
                tags.add((person_id, tag))
                tag_rows.append({"person_id": person_id, "tag": tag})
                changed_people.add(person_id)

    for chunk in _chunks(identifier_rows, 5000):
        _bulk_insert(session, Identifier.__table__, ["scheme", "value", "person_id", "organization_id"], chunk)
    membership_insert_columns = ["person_id", "organization_id", "role", "start_date", "created_at", "post_label",
                                 "post_id", "on_behalf_of_id", "country", "end_date"]
    for chunk in _chunks(membership_rows, 5000):
        _bulk_insert(session, Membership.__table__, membership_insert_columns, chunk)
    membership_table = Membership.__table__
    for chunk in _chunks(membership_updates):
        session.execute(sa.update(membership_table).where(membership_table.c.id == sa.bindparam("_id")), chunk)
    for chunk in _chunks(ended):
        session.execute(sa.update(membership_table).where(membership_table.c.id.in_(chunk)).values(end_date=today))
    report.memberships_ended = len(ended)
    for chunk in _chunks(tag_rows):
        session.execute(PersonTag.__table__.insert(), chunk)

    existing_changed = changed_people & set(existing_ids)
    report.updated = len(existing_changed)
    report.unchanged = len(existing_ids) - report.updated
    touch = [pid for pid in existing_changed if pid not in {row["id"] for row in person_updates}]
    for chunk in _chunks(touch):
        session.execute(sa.update(person_table).where(person_table.c.id.in_(chunk)).values(updated_at=now))
    tick(total, total)
    audit.record(session, actor=actor, action="contacts.import", entity_type="import", entity_id=dataset.source[:80],
                 after=report.as_dict() | {"skipped": len(report.skipped)})
    session.flush()
    return report
