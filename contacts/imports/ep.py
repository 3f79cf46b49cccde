"""European Parliament MEPs in the publisher's shape: meps.json or meps.csv.

The lookup files published beside them (eugroups.json, committees.json,
delegations.json, countries.json) give full names when they are present; without
them the codes stand in for names.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

from contacts.imports.core import (Dataset, MembershipRecord, OrgRecord, PersonRecord, data_lines, parse_date,
                                   person_values, readable_rows, text, usable_emails)
from contacts.models import OrgClassification

EP = "ep"
_PARTICLES = {"von", "van", "der", "den", "de", "la", "le", "di", "da", "du", "des", "del", "dos", "das", "zu", "ten", "ter"}
_CSV_REQUIRED = ("epid", "first_name", "last_name", "country", "eugroup")
_CSV_KNOWN = {"dxid", "country", "first_name", "last_name", "email", "birthdate", "gender", "eugroup", "party", "phone",
              "office", "committee", "substitute", "delegation", "twitter", "epid", "since"}
_COMMITTEE_ROLES = {"M": "Member", "S": "Substitute", "V": "Vice-Chair", "C": "Chair"}
_COMMITTEE_COLUMN = re.compile(r"^[A-Z][A-Z0-9]{3}$")


def looks_like_meps_json(data: Any) -> bool:
    return isinstance(data, list) and bool(data) and isinstance(data[0], dict) and "epid" in data[0]


def looks_like_meps_csv(header: list[str]) -> bool:
    return "epid" in header and "eugroup" in header


def load_lookups(directory: Path | None) -> dict[str, Any]:
    lookups: dict[str, Any] = {"groups": {}, "committees": {}, "delegations": {}}
    if directory is None:
        return lookups
    for key, name in (("groups", "eugroups.json"), ("committees", "committees.json"),
                      ("delegations", "delegations.json")):
        path = directory / name
        if path.is_file():
            try:
                loaded = json.loads(path.read_text(encoding="utf-8"))
            except (ValueError, UnicodeDecodeError):
                continue  # a broken optional lookup only costs the long names
            if isinstance(loaded, dict):
                lookups[key] = loaded
    return lookups


def title_name(upper: str) -> str:
    """'VON DER LEYEN' -> 'von der Leyen'; the EP prints family names in capitals."""
    if not upper.isupper():
        return upper
    words = []
    for index, word in enumerate(upper.split(" ")):
        lower = word.lower()
        if index > 0 and lower in _PARTICLES:
            words.append(lower)
        else:
            words.append("-".join(part[:1].upper() + part[1:].lower() for part in word.split("-")))
    return " ".join(words)


def twitter_url(raw: str) -> str:
    handle = raw.strip()
    handle = re.sub(r"^(https?://)?(www\.)?(mobile\.)?(twitter\.com|x\.com)/", "", handle, flags=re.I)
    handle = handle.split("?")[0].strip("/").lstrip("@")
    return f"https://x.com/{handle}" if handle else ""


class _Builder:
    def __init__(self, source: str, lookups: dict[str, Any]):
        self.dataset = Dataset(source=source)
        self.lookups = lookups
        self.dataset.add_org(OrgRecord(key=EP, name="European Parliament", classification=OrgClassification.parliament,
                                       abbreviation="EP", url="https://www.europarl.europa.eu",
                                       identifiers=[("wikidata", "Q8889")]))

    def group(self, acronym: str) -> str:
        info = self.lookups["groups"].get(acronym) or {}
        name = text(info.get("name")) if isinstance(info, dict) else ""
        key = f"group:{acronym}"
        self.dataset.add_org(OrgRecord(key=key, name=name or acronym, classification=OrgClassification.parliamentary_group,
                                       parent_key=EP, abbreviation=acronym, url=text(info.get("url")) if info else "",
                                       identifiers=[("ep_group", acronym)]))
        return key

    def party(self, name: str, country: str) -> str:
        key = f"party:{country}:{name.casefold()}"
        self.dataset.add_org(OrgRecord(key=key, name=name, classification=OrgClassification.party, country=country))
        return key

    def committee(self, code: str) -> str:
        key = f"committee:{code}"
        name = text(self.lookups["committees"].get(code)) or code
        self.dataset.add_org(OrgRecord(key=key, name=name, classification=OrgClassification.committee, parent_key=EP,
                                       abbreviation=code, identifiers=[("ep_committee", code)]))
        return key

    def delegation(self, code: str) -> str:
        key = f"delegation:{code}"
        name = text(self.lookups["delegations"].get(code)) or code
        self.dataset.add_org(OrgRecord(key=key, name=name, classification=OrgClassification.other, parent_key=EP,
                                       abbreviation=code, identifiers=[("ep_delegation", code)]))
        return key

    def person(self, loc: str, *, epid: str, first: str, last: str, country: str, group: str, party: str,
               values: dict[str, Any], term_start: Any = None) -> PersonRecord | None:
        missing = [name for name, value in (("epid", epid), ("first_name", first), ("last_name", last),
                                            ("country", country), ("eugroup", group)) if not value]
        for name in missing:
            self.dataset.problem(f"{loc}.{name}", "missing")
        if missing:
            return None
        if not epid.isdigit():
            self.dataset.problem(f"{loc}.epid", f"{epid!r} is not an EP member number")
            return None
        country = country.upper()
        family = title_name(last)
        record = PersonRecord(ref=loc, identifiers=[("ep_id", epid)], values=person_values(
            name=f"{first} {family}", given_name=first, family_name=family, **values))
        record.values["links"] = [{"note": "European Parliament profile",
                                   "url": f"https://www.europarl.europa.eu/meps/en/{epid}"}, *record.values["links"]]
        record.memberships.append(MembershipRecord(
            org_key=EP, role="Member of the European Parliament", post_label=country, post_id=country.lower(),
            on_behalf_of_key=self.party(party, country) if party else None, country=country,
            start_date=parse_date(self.dataset, f"{loc}.constituency.start", term_start)))
        record.memberships.append(MembershipRecord(org_key=self.group(group), role="Member", country=country))
        self.dataset.people.append(record)
        return record


def _contact(phone: str, office: str, twitter: str) -> dict[str, Any]:
    links = [{"note": "twitter", "url": twitter_url(twitter)}] if twitter_url(twitter) else []
    return {"phones": [{"label": "Brussels office", "value": phone}] if phone else [],
            "addresses": [{"label": "Brussels office", "value": office}] if office else [], "links": links}


def parse_json(data: Any, *, source: str = "meps.json", lookups: dict[str, Any] | None = None) -> Dataset:
    builder = _Builder(source, lookups or load_lookups(None))
    dataset = builder.dataset
    if not isinstance(data, list):
        dataset.problem("meps", "an EP MEP file is a JSON list of MEP objects")
        return dataset
    for index, mep in enumerate(data):
        loc = f"meps[{index}]"
        if not isinstance(mep, dict):
            dataset.problem(loc, "must be an object")
            continue
        if mep.get("active") is False:
            dataset.skipped.append((loc, "not an active MEP"))
            continue
        constituency = mep.get("constituency") if isinstance(mep.get("constituency"), dict) else {}
        birth = mep.get("Birth") if isinstance(mep.get("Birth"), dict) else {}
        brussels = ((mep.get("Addresses") or {}).get("Brussels") or {}) if isinstance(mep.get("Addresses"), dict) else {}
        values = {"emails": usable_emails(dataset, loc, [text(mep.get("mail"))]),
                  "gender": text(mep.get("Gender"))[:40],
                  "birth_date": parse_date(dataset, f"{loc}.Birth.date", birth.get("date")),
                  **_contact(text(brussels.get("Phone")), text(brussels.get("Office")), text(mep.get("Twitter")))}
        record = builder.person(loc, epid=text(mep.get("epid")), first=text(mep.get("first_name")),
                                last=text(mep.get("last_name")), country=text(constituency.get("country")),
                                group=text(mep.get("eugroup")), party=text(constituency.get("party")),
                                values=values, term_start=constituency.get("start"))
        if record is None:
            continue
        country = record.memberships[0].country
        for kind, make in (("committees", builder.committee), ("delegations", builder.delegation)):
            for position, seat in enumerate(mep.get(kind) or []):
                if not isinstance(seat, dict) or not text(seat.get("name")):
                    dataset.problem(f"{loc}.{kind}[{position}].name", "missing")
                    continue
                record.memberships.append(MembershipRecord(
                    org_key=make(text(seat["name"])), role=text(seat.get("role")) or "Member", country=country,
                    start_date=parse_date(dataset, f"{loc}.{kind}[{position}].start", seat.get("start")),
                    end_date=parse_date(dataset, f"{loc}.{kind}[{position}].end", seat.get("end"))))
    return dataset


def parse_csv(content: str, *, source: str = "meps.csv", lookups: dict[str, Any] | None = None) -> Dataset:
    builder = _Builder(source, lookups or load_lookups(None))
    dataset = builder.dataset
    rows = readable_rows(csv.reader(io.StringIO(content)), dataset)
    header = next(rows, [])
    for column in _CSV_REQUIRED:
        if column not in header:
            dataset.problem("line 1", f"missing column {column!r}")
    for position, column in enumerate(header, start=1):
        if column not in _CSV_KNOWN and not _COMMITTEE_COLUMN.match(column):
            dataset.problem(f"line 1, column {position}", f"unknown column {column!r}")
    if dataset.problems:
        return dataset
    committees = [c for c in header if _COMMITTEE_COLUMN.match(c)]
    for line, cells in data_lines(dataset, header, rows):
        row = dict(zip(header, (cell.strip() for cell in cells)))
        loc = f"line {line}"
        values = {"emails": usable_emails(dataset, loc, [row.get("email", "")]), "gender": row.get("gender", "")[:40],
                  "birth_date": parse_date(dataset, f"{loc}.birthdate", row.get("birthdate")),
                  **_contact(row.get("phone", ""), row.get("office", ""), row.get("twitter", ""))}
        parse_date(dataset, f"{loc}.since", row.get("since"))
        record = builder.person(loc, epid=row["epid"], first=row["first_name"], last=row["last_name"],
                                country=row["country"], group=row["eugroup"], party=row.get("party", ""),
                                values=values)
        if record is None:
            continue
        country = record.memberships[0].country
        for code in committees:
            mark = row.get(code, "")
            if mark in _COMMITTEE_ROLES:
                record.memberships.append(MembershipRecord(org_key=builder.committee(code), country=country,
                                                           role=_COMMITTEE_ROLES[mark]))
            elif mark:
                dataset.problem(f"{loc}.{code}", f"{mark!r} is not M, S, V or C (member, substitute, vice-chair, chair)")
        for code in filter(None, (part.strip() for part in row.get("delegation", "").split("|"))):
            record.memberships.append(MembershipRecord(org_key=builder.delegation(code), role="Member",
                                                       country=country))
    return dataset
