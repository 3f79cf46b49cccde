"""What every importer shares: the records a parser produces, and applying them in bulk.

A parser reads a source file into a ``Dataset`` (organisations, people with their
identifiers and memberships) and lists every problem it finds with the record or line
and the field. Nothing is written unless the whole file is clean: people are matched and
written a chunk at a time (so a file read as a stream need not be held), inside one
savepoint that a problem found anywhere in the file rolls back. Applying a dataset
matches people by identifier first, then by name within the same organisation, so a
re-import updates rows in place; rows are written with executemany-style bulk
statements, not one ORM object at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
import contextlib
import csv
from dataclasses import dataclass, field
from functools import lru_cache
import json
import re
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
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
CHUNK = 1000


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


def _chunks(items: list[Any], size: int = CHUNK) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _resolve_organizations(session: Session, dataset: Dataset, report: ImportReport) -> dict[str, int]:
    """Find or create each organisation of the dataset: by identifier, else by classification
    and name under the same parent (and in the same country, or none).

    What could match is read in a few queries first, and the new organisations of each level
    of the tree are inserted together: a file can list a thousand organisations."""
    records = list(dataset.organizations.values())
    found = _OrgMatcher(session, records)
    resolved: dict[str, int] = {}
    now = utcnow()
    new_identifiers: list[tuple[str, str, Organization]] = []
    pending = records
    # Parents first, whatever order the file gave them in.
    while pending:
        ready = [o for o in pending if o.parent_key is None or o.parent_key in resolved
                 or o.parent_key not in dataset.organizations]
        if not ready:
            raise InvalidInput("The organisations' parents form a loop.",
                               errors=[FieldError(f"organization {o.key}", "parent loop") for o in pending])
        level: list[tuple[str, Organization]] = []
        for record in ready:
            parent_id = resolved.get(record.parent_key) if record.parent_key else None
            org = found.match(record, parent_id)
            if org is None:
                org = Organization(name=record.name, classification=record.classification, parent_id=parent_id,
                                   country=record.country, abbreviation=record.abbreviation, url=record.url)
                session.add(org)
                found.add(org)
                report.organizations_created += 1
            else:
                changes = {"name": record.name, "classification": record.classification, "parent_id": parent_id,
                           "country": record.country or org.country,
                           "abbreviation": record.abbreviation or org.abbreviation, "url": record.url or org.url}
                if any(getattr(org, key) != value for key, value in changes.items()):
                    found.remove(org)
                    for key, value in changes.items():
                        setattr(org, key, value)
                    org.updated_at = now
                    found.add(org)
                    report.organizations_updated += 1
            for scheme, value in record.identifiers:
                if found.claim((scheme, value), org):
                    new_identifiers.append((scheme, value, org))
            level.append((record.key, org))
        session.flush()
        resolved.update((key, org.id) for key, org in level)
        pending = [o for o in pending if o.key not in resolved]
    session.add_all(Identifier(scheme=scheme, value=value, organization_id=org.id)
                    for scheme, value, org in new_identifiers)
    session.flush()
    return resolved


class _OrgMatcher:
    """The organisations an import's organisations could match, read up front, kept up to date
    as it creates and changes them."""

    def __init__(self, session: Session, records: list[OrgRecord]) -> None:
        identifiers = {ident for record in records for ident in record.identifiers}
        # Every owner of these identifiers (None: a person's), so that none is given twice.
        self.owners: dict[tuple[str, str], Organization | None] = {}
        owner_ids: dict[tuple[str, str], int | None] = {}
        schemes = sorted({scheme for scheme, _ in identifiers})
        for chunk in _chunks(sorted({value for _, value in identifiers})):
            rows = session.execute(sa.select(Identifier.scheme, Identifier.value, Identifier.organization_id)
                                   .where(Identifier.scheme.in_(schemes), Identifier.value.in_(chunk)))
            owner_ids.update(((scheme, value), org_id) for scheme, value, org_id in rows)
        orgs: dict[int, Organization] = {}
        for chunk in _chunks(sorted({record.name for record in records})):
            orgs.update((org.id, org) for org in session.execute(
                sa.select(Organization).where(Organization.name.in_(chunk))).scalars())
        wanted = sorted({org_id for org_id in owner_ids.values() if org_id is not None} - orgs.keys())
        for chunk in _chunks(wanted):
            orgs.update((org.id, org) for org in session.execute(
                sa.select(Organization).where(Organization.id.in_(chunk))).scalars())
        self.owners = {ident: orgs[org_id] if org_id is not None else None for ident, org_id in owner_ids.items()}
        self.by_name: dict[tuple[Any, str, int | None], list[Organization]] = {}
        for org_id in sorted(orgs):
            self.add(orgs[org_id])

    def match(self, record: OrgRecord, parent_id: int | None) -> Organization | None:
        for ident in record.identifiers:
            owner = self.owners.get(ident)
            if owner is not None:
                return owner
        for org in self.by_name.get((record.classification, record.name, parent_id or None), ()):
            if not record.country or org.country in (record.country, ""):
                return org
        return None

    def add(self, org: Organization) -> None:
        """Known under its current classification, name and parent, in the order of their ids (new ones last)."""
        same = self.by_name.setdefault((org.classification, org.name, org.parent_id or None), [])
        same.append(org)
        if org.id is not None and len(same) > 1:
            same.sort(key=lambda o: (o.id is None, o.id or 0))

    def remove(self, org: Organization) -> None:
        key = (org.classification, org.name, org.parent_id or None)
        self.by_name[key] = [o for o in self.by_name[key] if o is not org]

    def claim(self, ident: tuple[str, str], org: Organization) -> bool:
        """Whether the identifier is new, now ``org``'s."""
        if ident in self.owners:
            return False
        self.owners[ident] = org
        return True


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
    return apply_people(session, dataset, _chunks(dataset.people), total=len(dataset.people), actor=actor,
                        progress=progress)


def apply_people(session: Session, dataset: Dataset, chunks: Iterable[list[PersonRecord]], *, total: int,
                 actor: Any = None, progress: Progress | None = None) -> ImportReport:
    """Write ``dataset``'s organisations and the people of ``chunks``, a chunk at a time, all or nothing.

    ``chunks`` may be a parser still reading the file and adding to ``dataset.problems`` as it
    goes: from the first problem on nothing more is written, the rest of the file is still read
    so that InvalidInput lists every problem, and the savepoint holding what was written is
    rolled back. Problems found while matching people (an identifier given twice, two people
    matching one) are listed when the file itself has none.
    """
    tick = progress or (lambda done, total: None)
    tick(0, total)
    org_problems = _org_length_problems(dataset)
    person_problems: list[FieldError] = []
    done = 0
    try:
        # The savepoint (entered on the first write) undoes everything written when a problem
        # is found, even when the caller goes on to commit something else.
        with contextlib.ExitStack() as savepoint:
            writer: _Writer | None = None
            for chunk in chunks:
                person_problems += _person_length_problems(chunk)
                if not (dataset.problems or person_problems or org_problems):
                    writer = writer or _Writer.start(session, dataset, savepoint, actor=actor)
                    writer.add(chunk)
                done += len(chunk)
                tick(done, total)
            problems = dataset.problems + person_problems + org_problems
            if problems:
                raise InvalidInput(f"{dataset.source}: {len(problems)} problem(s); nothing was imported.",
                                   errors=problems)
            writer = writer or _Writer.start(session, dataset, savepoint, actor=actor)
            report = writer.finish()
            tick(total, total)
            return report
    except sa.exc.IntegrityError:
        raise Conflict("Another change to these people or organisations was saved at the same time; nothing was "
                       "imported. Try again.", errors=[FieldError("file", "concurrent change")]) from None


_IMPORT_LOCK = 0x636F6E74  # any fixed number: the advisory lock all imports share


def _column_limits(table: sa.Table) -> dict[str, int]:
    return {column.name: column.type.length for column in table.columns if getattr(column.type, "length", None)}


def _person_length_problems(people: list[PersonRecord]) -> list[FieldError]:
    """Values longer than their column: refused by record and field, before anything is written."""
    problems = []
    person_limits = _column_limits(Person.__table__)
    identifier_limits = _column_limits(Identifier.__table__)
    for person in people:
        for name, value in person.values.items():
            limit = person_limits.get(name)
            if limit and isinstance(value, str) and len(value) > limit:
                problems.append(FieldError(f"{person.ref}.{name}", f"longer than {limit:,} characters"))
        for scheme, value in person.identifiers:
            if len(scheme) > identifier_limits["scheme"] or len(value) > identifier_limits["value"]:
                problems.append(FieldError(f"{person.ref}.identifiers", f"{scheme[:40]!r} identifier longer than "
                                           f"{identifier_limits['value']:,} characters"))
    return problems


def _org_length_problems(dataset: Dataset) -> list[FieldError]:
    problems = []
    identifier_limits = _column_limits(Identifier.__table__)
    org_limits = _column_limits(Organization.__table__)
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


class _Writer:
    """Matches the people of an import and writes them, a chunk at a time, inside its savepoint.

    Between chunks it keeps only what matching the next ones needs: the people already
    claimed, a hash of every identifier seen (a 64-bit hash, so 150,000 identifiers take a
    few megabytes; two different identifiers sharing one is a one-in-10^9 chance) and, once a
    person is not found by identifier, the names in the file's organisations as they were
    before the import.
    """

    def __init__(self, session: Session, dataset: Dataset, org_ids: dict[str, int], report: ImportReport, *,
                 actor: Any) -> None:
        self.session = session
        self.dataset = dataset
        self.org_ids = org_ids
        self.report = report
        self.actor = actor
        self.now = utcnow()
        self.touched_orgs = sorted(set(org_ids.values()))
        self.problems: list[FieldError] = []
        self.claimed: dict[int, str] = {}
        self.seen_identifiers: dict[int, str] = {}
        self.by_name_in_org: dict[tuple[int, str], int] | None = None
        # The last person, membership and identifier before the import: matching sees only
        # those, as if the whole file were matched before its first row was written.
        self.before = tuple(session.execute(sa.select(sa.func.max(table.id))).scalar()
                            for table in (Person, Membership, Identifier))

    @classmethod
    def start(cls, session: Session, dataset: Dataset, savepoint: contextlib.ExitStack, *, actor: Any) -> _Writer:
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
        savepoint.enter_context(session.begin_nested())
        report = ImportReport(source=dataset.source)
        org_ids = _resolve_organizations(session, dataset, report) if dataset.organizations else {}
        return cls(session, dataset, org_ids, report, actor=actor)

    def add(self, people: list[PersonRecord]) -> None:
        """Match a chunk of people and, while nothing is wrong, write it."""
        by_identifier = self._identifiers(people)
        matched = self._match(people, by_identifier)
        if not self.problems:
            self._write(people, matched, by_identifier)

    def finish(self) -> ImportReport:
        if self.problems:
            raise InvalidInput(f"{self.dataset.source}: {len(self.problems)} problem(s); nothing was imported.",
                               errors=self.problems)
        report = self.report
        report.skipped, report.warnings = list(self.dataset.skipped), list(self.dataset.warnings)
        audit.record(self.session, actor=self.actor, action="contacts.import", entity_type="import",
                     entity_id=self.dataset.source[:80], after=report.as_dict() | {"skipped": len(report.skipped)})
        self.session.flush()
        return report

    def _identifiers(self, people: list[PersonRecord]) -> dict[tuple[str, str], int]:
        """The people that were in the database before the import and that these people's identifiers name."""
        found: dict[tuple[str, str], int] = {}
        last_identifier = self.before[2]
        if last_identifier is None:
            return found
        schemes = sorted({scheme for p in people for scheme, _ in p.identifiers})
        values = sorted({value for p in people for _, value in p.identifiers})
        postgresql = self.session.connection().dialect.name == "postgresql"
        for chunk in _chunks(values, 5000):
            # One array parameter on PostgreSQL: thousands of separate ones cost more to send than the query.
            in_chunk = (Identifier.value == sa.any_(sa.bindparam("values", chunk, type_=ARRAY(sa.String)))
                        if postgresql else Identifier.value.in_(chunk))
            rows = self.session.execute(sa.select(Identifier.scheme, Identifier.value, Identifier.person_id)
                                        .where(Identifier.scheme.in_(schemes), in_chunk,
                                               Identifier.person_id.is_not(None), Identifier.id <= last_identifier))
            found.update(((s, v), pid) for s, v, pid in rows)
        return found

    def _names_in_organizations(self) -> dict[tuple[int, str], int]:
        last_person, last_membership, _ = self.before
        names: dict[tuple[int, str], int] = {}
        if last_person is None or last_membership is None:
            return names
        rows = self.session.execute(sa.select(Membership.organization_id, Person.name, Person.id)
                                    .join(Person, Person.id == Membership.person_id)
                                    .where(Membership.organization_id.in_(self.touched_orgs),
                                           Person.id <= last_person, Membership.id <= last_membership))
        for org_id, name, person_id in rows:
            names.setdefault((org_id, normalise_name(name)), person_id)
        return names

    def _match(self, people: list[PersonRecord], by_identifier: dict[tuple[str, str], int]) -> list[int | None]:
        """The existing person each one is (by identifier, else by name within an organisation), or None."""
        if (self.by_name_in_org is None and self.touched_orgs
                and any(not any(i in by_identifier for i in p.identifiers) for p in people)):
            self.by_name_in_org = self._names_in_organizations()
        by_name_in_org = self.by_name_in_org
        problems, claimed, seen_identifiers = self.problems, self.claimed, self.seen_identifiers
        matched: list[int | None] = []
        for person in people:
            person_id = None
            for ident in person.identifiers:
                seen = hash(ident)
                if seen in seen_identifiers:
                    problems.append(FieldError(f"{person.ref}.identifiers",
                                               f"{ident[0]} {ident[1]} is also given to {seen_identifiers[seen]}"))
                seen_identifiers[seen] = person.ref
                found = by_identifier.get(ident)
                if found is not None and person_id is not None and found != person_id:
                    problems.append(FieldError(f"{person.ref}.identifiers",
                                               f"{ident[0]} {ident[1]} belongs to another person (id {found})"))
                person_id = person_id or found
            if person_id is None and by_name_in_org:
                key_name = normalise_name(person.values["name"])
                for membership in person.memberships:
                    person_id = by_name_in_org.get((self.org_ids[membership.org_key], key_name))
                    if person_id is not None:
                        break
            if person_id is not None:
                if person_id in claimed:
                    problems.append(FieldError(person.ref, f"matches the same person as {claimed[person_id]}"))
                claimed[person_id] = person.ref
            matched.append(person_id)
        return matched

    def _write(self, people: list[PersonRecord], matched: list[int | None],
               by_identifier: dict[tuple[str, str], int]) -> None:
        session, report, org_ids, now = self.session, self.report, self.org_ids, self.now
        today = now.date()
        existing_ids = [pid for pid in matched if pid is not None]
        current: dict[int, dict[str, Any]] = {}
        memberships: dict[int, dict[tuple[int, str, date | None], dict[str, Any]]] = {}
        tags: set[tuple[int, str]] = set()
        if existing_ids:
            person_columns = [getattr(Person, name) for name in PERSON_FIELDS]
            membership_columns = [Membership.id, Membership.person_id, Membership.organization_id, Membership.role,
                                  Membership.post_label, Membership.post_id, Membership.on_behalf_of_id,
                                  Membership.country, Membership.start_date, Membership.end_date]
            for row in session.execute(sa.select(Person.id, *person_columns).where(Person.id.in_(existing_ids))):
                current[row.id] = {name: getattr(row, name) for name in PERSON_FIELDS}
            for row in session.execute(sa.select(*membership_columns).where(Membership.person_id.in_(existing_ids))):
                key = _membership_key(row.organization_id, row.role, row.start_date)
                memberships.setdefault(row.person_id, {})[key] = row._asdict()
            for row in session.execute(sa.select(PersonTag.person_id, PersonTag.tag)
                                       .where(PersonTag.person_id.in_(existing_ids))):
                tags.add((row.person_id, row.tag))

        new_people: list[tuple[int, PersonRecord]] = []
        person_updates: list[dict[str, Any]] = []
        for index, (person, person_id) in enumerate(zip(people, matched)):
            values = person.values
            if person_id is None:
                new_people.append((index, person))
            else:
                before = current[person_id]
                if any(values[name] != before[name] for name in PERSON_FIELDS):
                    person_updates.append({"id": person_id, **values, **derived_names(values), "updated_at": now})

        # New people, their identifiers and memberships go in through the driver's own
        # executemany with values already in database form: this is the bulk of a large
        # import, and SQLAlchemy's per-row parameter processing would double its time.
        person_table = Person.__table__
        try:
            ids = _allocate_ids(session, "person", len(new_people))
            rows = []
            for new_id, (index, p) in zip(ids, new_people):
                matched[index] = new_id
                rows.append({**p.values, **derived_names(p.values), "id": new_id, "notes": "", "created_at": now,
                             "updated_at": now})
            _bulk_insert(session, person_table, ["id", *PERSON_FIELDS, "search_name", "sort_key", "notes",
                                                 "created_at", "updated_at"], rows)
        except sa.exc.IntegrityError:
            raise Conflict("Another import changed these people at the same time; nothing was imported. Try again.",
                           errors=[FieldError("file", "concurrent import")]) from None
        report.created += len(new_people)
        if person_updates:
            session.execute(sa.update(person_table).where(person_table.c.id == sa.bindparam("_id")),
                            [{**{k: v for k, v in row.items() if k != "id"}, "_id": row["id"]}
                             for row in person_updates])

        identifier_rows: list[dict[str, Any]] = []
        membership_rows: list[dict[str, Any]] = []
        membership_updates: list[dict[str, Any]] = []
        ended: list[int] = []
        tag_rows: list[dict[str, Any]] = []
        updated_people = {row["id"] for row in person_updates}
        changed_people: set[int] = set(updated_people)
        covered = set(self.touched_orgs)
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
                    old = next((o for k, o in have.items() if k[0] == org_id and k[1] == m.role
                                and o["id"] not in kept and (k[2] is None or m.start_date is None)), None)
                if old is not None:
                    kept.add(old["id"])
                    values["start_date"] = m.start_date if m.start_date is not None else old["start_date"]
                if old is None:
                    membership_rows.append({"person_id": person_id, "organization_id": org_id,
                                            "role": m.role[:200], "start_date": m.start_date, "created_at": now,
                                            **values})
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

        _bulk_insert(session, Identifier.__table__, ["scheme", "value", "person_id", "organization_id"],
                     identifier_rows)
        _bulk_insert(session, Membership.__table__, ["person_id", "organization_id", "role", "start_date",
                                                     "created_at", "post_label", "post_id", "on_behalf_of_id",
                                                     "country", "end_date"], membership_rows)
        membership_table = Membership.__table__
        if membership_updates:
            session.execute(sa.update(membership_table).where(membership_table.c.id == sa.bindparam("_id")),
                            membership_updates)
        for chunk in _chunks(ended):
            session.execute(sa.update(membership_table).where(membership_table.c.id.in_(chunk)).values(end_date=today))
        report.memberships_ended += len(ended)
        if tag_rows:
            session.execute(PersonTag.__table__.insert(), tag_rows)

        existing_changed = changed_people & set(existing_ids)
        report.updated += len(existing_changed)
        report.unchanged += len(existing_ids) - len(existing_changed)
        touch = [pid for pid in existing_changed if pid not in updated_people]
        for chunk in _chunks(touch):
            session.execute(sa.update(person_table).where(person_table.c.id.in_(chunk)).values(updated_at=now))
