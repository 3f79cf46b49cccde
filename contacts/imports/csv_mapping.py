"""Any CSV of contacts, with its columns mapped to person fields (chosen on a preview page)."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any

from contacts.imports.core import (Dataset, MembershipRecord, OrgRecord, PersonRecord, data_lines, looks_like_email,
                                   parse_date, person_values, readable_rows)
from contacts.models import OrgClassification

IGNORE = "ignore"
FIELDS = {
    "name": "Full name", "given_name": "Given name", "family_name": "Family name",
    "honorific_prefix": "Honorific prefix (Lord, Rt Hon)", "honorific_suffix": "Honorific suffix (MP)",
    "email": "E-mail", "phone": "Phone", "address": "Postal address", "website": "Website", "twitter": "Twitter",
    "image_url": "Photo URL", "gender": "Gender", "birth_date": "Birth date", "tags": "Tags (separated by ;)",
    "organization": "Organisation (parliament or chamber)", "role": "Role", "post_label": "Constituency or area",
    "party": "Party", "committee": "Committee", "country": "Country (ISO code)", "start_date": "Start date",
    "end_date": "End date",
}
IDENTIFIER_PREFIX = "identifier:"


def target_ok(target: str) -> bool:
    return target in FIELDS or target == IGNORE or (target.startswith(IDENTIFIER_PREFIX)
                                                   and len(target) > len(IDENTIFIER_PREFIX))


def guess_mapping(header: list[str]) -> dict[str, str]:
    """The mapping a preview page starts from: columns named like a field map to it."""
    guesses = {}
    for column in header:
        key = column.strip().lower().replace(" ", "_").replace("-", "_")
        guesses[column] = key if key in FIELDS else (key if key.startswith(IDENTIFIER_PREFIX) else IGNORE)
    return guesses


def parse(lines: Iterable[str], *, mapping: dict[str, str] | None = None, source: str = "contacts.csv",
          organization_classification: OrgClassification = OrgClassification.chamber,
          default_country: str = "", preview_rows: list[dict[str, Any]] | None = None) -> Dataset:
    """Read the CSV into a dataset; with no mapping, every column must be named after a field."""
    dataset = Dataset(source=source)
    rows = readable_rows(csv.reader(lines), dataset)
    header = next(rows, [])
    if dataset.problems:
        return dataset
    if not header:
        dataset.problem("line 1", "the file is empty: a header row is needed")
        return dataset
    if mapping is None:
        mapping = {}
        for position, column in enumerate(header, start=1):
            key = column.strip()
            if target_ok(key) and key != IGNORE:
                mapping[column] = key
            else:
                dataset.problem(f"line 1, column {position}", f"unknown column {column!r}: map it to a field or ignore it")
    else:
        for position, column in enumerate(header, start=1):
            if column not in mapping:
                dataset.problem(f"line 1, column {position}", f"unknown column {column!r}: map it to a field or ignore it")
            elif not target_ok(mapping[column]):
                dataset.problem(f"line 1, column {position}", f"{mapping[column]!r} is not a field")
        for column in mapping:
            if column not in header:
                dataset.problem("mapping", f"the file has no column {column!r}")
    targets = set(mapping.values())
    if "name" not in targets and not {"given_name", "family_name"} <= targets:
        dataset.problem("mapping", "map a column to the full name (or to both given and family name)")
    if dataset.problems:
        return dataset

    default_country = default_country.upper()
    for line, cells in data_lines(dataset, header, rows):
        row: dict[str, str] = {}
        identifiers: list[tuple[str, str]] = []
        for column, cell in zip(header, cells):
            target = mapping.get(column, IGNORE)
            if target == IGNORE:
                continue
            if target.startswith(IDENTIFIER_PREFIX):
                if cell.strip():
                    identifiers.append((target[len(IDENTIFIER_PREFIX):], cell.strip()))
            else:
                row[target] = cell.strip()
        record = _record(dataset, f"line {line}", row, identifiers, organization_classification, default_country)
        if record is not None:
            dataset.people.append(record)
            if preview_rows is not None and len(preview_rows) < 20:
                preview_rows.append({"line": line, **row,
                                     "identifiers": ", ".join(f"{s} {v}" for s, v in identifiers)})
    return dataset


def _record(dataset: Dataset, loc: str, row: dict[str, str], identifiers: list[tuple[str, str]],
            classification: OrgClassification, default_country: str) -> PersonRecord | None:
    name = row.get("name") or " ".join(filter(None, [row.get("given_name", ""), row.get("family_name", "")]))
    if not name:
        dataset.problem(f"{loc}.name", "missing: every person needs a name")
        return None
    email = row.get("email", "")
    if email and not looks_like_email(email):
        dataset.problem(f"{loc}.email", f"{email!r} is not an e-mail address")
    links = [{"note": note, "url": row[key]} for key, note in (("website", "website"), ("twitter", "twitter"))
             if row.get(key)]
    values = person_values(
        name=name, given_name=row.get("given_name", ""), family_name=row.get("family_name", ""),
        honorific_prefix=row.get("honorific_prefix", ""), honorific_suffix=row.get("honorific_suffix", ""),
        emails=[email] if email else [], phones=[{"label": "", "value": row["phone"]}] if row.get("phone") else [],
        addresses=[{"label": "", "value": row["address"]}] if row.get("address") else [], links=links,
        image_url=row.get("image_url", "")[:500], gender=row.get("gender", "")[:40],
        birth_date=parse_date(dataset, f"{loc}.birth_date", row.get("birth_date")))
    country = (row.get("country") or default_country).upper()[:8]
    tags = [t.strip()[:80] for t in row.get("tags", "").split(";") if t.strip()]
    record = PersonRecord(ref=loc, values=values, identifiers=identifiers, tags=list(dict.fromkeys(tags)))
    start = parse_date(dataset, f"{loc}.start_date", row.get("start_date"))
    end = parse_date(dataset, f"{loc}.end_date", row.get("end_date"))
    party_key = None
    if row.get("party"):
        party_key = f"party:{country}:{row['party'].casefold()}"
        dataset.add_org(OrgRecord(key=party_key, name=row["party"], classification=OrgClassification.party,
                                  country=country))
    org_key = None
    if row.get("organization"):
        org_key = f"org:{row['organization'].casefold()}"
        dataset.add_org(OrgRecord(key=org_key, name=row["organization"], classification=classification,
                                  country=country))
        record.memberships.append(MembershipRecord(org_key=org_key, role=row.get("role", ""),
                                                   post_label=row.get("post_label", ""), on_behalf_of_key=party_key,
                                                   country=country, start_date=start, end_date=end))
    elif party_key:
        record.memberships.append(MembershipRecord(org_key=party_key, role="Member", country=country))
    if row.get("committee"):
        committee_key = f"committee:{row['committee'].casefold()}"
        dataset.add_org(OrgRecord(key=committee_key, name=row["committee"], classification=OrgClassification.committee,
                                  parent_key=org_key, country=country))
        record.memberships.append(MembershipRecord(org_key=committee_key, role="Member", country=country))
    return record
