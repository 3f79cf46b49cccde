"""Popolo JSON (persons, organizations, memberships, posts, areas) from any parliament.

Follows the open standard (popoloproject.com): EveryPolitician files, mySociety's
people.json and the derived UK Commons file all read the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from campaign.errors import FieldError
from contacts.imports import jsonfile
from contacts.imports.core import (CHUNK, Dataset, MembershipRecord, OrgRecord, PersonRecord, parse_date,
                                   person_values, text, usable_emails)
from contacts.models import OrgClassification

_CLASSIFICATIONS = {
    "legislature": OrgClassification.parliament, "parliament": OrgClassification.parliament,
    "chamber": OrgClassification.chamber, "upper house": OrgClassification.chamber,
    "lower house": OrgClassification.chamber, "party": OrgClassification.party,
    "political party": OrgClassification.party, "group": OrgClassification.parliamentary_group,
    "political group": OrgClassification.parliamentary_group,
    "parliamentary group": OrgClassification.parliamentary_group,
    "parliamentary_group": OrgClassification.parliamentary_group, "committee": OrgClassification.committee,
    "department": OrgClassification.department, "government department": OrgClassification.department,
    "ministry": OrgClassification.department, "executive": OrgClassification.government,
    "government": OrgClassification.government, "cabinet": OrgClassification.government,
    "ngo": OrgClassification.ngo, "cross-party group": OrgClassification.cross_party_group,
    "cross_party_group": OrgClassification.cross_party_group, "appg": OrgClassification.cross_party_group,
}
_SEAT_SCHEMES = {"pcon_code"}
_PHONE_TYPES = {"voice", "phone", "cell", "mobile", "fax", "telephone"}


def looks_like_popolo(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("persons"), list)


def _list(dataset: Dataset, data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key) or []
    if not isinstance(value, list):
        dataset.problem(key, "must be a list")
        return []
    return value


def parse(data: Any, *, source: str = "popolo", country: str = "") -> Dataset:
    """A Popolo file read whole (YAML, or JSON the stream could not read)."""
    dataset = Dataset(source=source)
    if not looks_like_popolo(data):
        dataset.problem("persons", "a Popolo file is a JSON object with a list of persons")
        return dataset
    reader = Reader(dataset, country=country)
    reader.read_parts(data)
    memberships = data.get("memberships") or []
    if isinstance(memberships, list):
        for index, membership in enumerate(memberships):
            reader.add_membership(index, membership)
    else:
        reader.memberships_not_a_list()
    for chunk in reader.people(_list(dataset, data, "persons")):
        dataset.people.extend(chunk)
    return dataset


# Parts of memberships that many share (organisations, roles, dates), kept once in memory.
_SHARED_FIELDS = ("organization_id", "on_behalf_of_id", "post_id", "role", "area_id", "start_date", "end_date")


class Reader:
    """Reads a Popolo file's parts in the order a stream can give them, with the checks and
    messages of a whole read, in its order, whatever the order of the parts in the file.

    Each membership is kept compactly under its person's id until that person is read; the
    organisations, posts and areas (small, kept whole) are read before the first person; then
    the persons come in chunks, each person's memberships checked and attached as it is read.
    Problems land in ``dataset.problems`` as they are found, so that a caller can stop writing
    at the first; once the last person is read they are put in the order of a whole read: the
    parts' shapes and organisations, persons, then memberships by index.
    """

    def __init__(self, dataset: Dataset, *, country: str = "") -> None:
        self.dataset = dataset
        self.country = country.upper()
        self.areas: dict[str, str] = {}
        self.posts: dict[str, dict[str, Any]] = {}
        self.by_id: dict[str, dict[str, Any]] = {}
        # person id -> (index, *shared fields, label), or a list of them
        self.memberships: dict[str, Any] = {}
        self.membership_problems: list[tuple[int, FieldError]] = []
        self.person_keys: set[str] = set()
        self._shared: dict[Any, Any] = {}

    def read_parts(self, parts: dict[str, Any]) -> None:
        """The areas, posts and organisations."""
        dataset = self.dataset
        self.areas = {text(a.get("id")): text(a.get("name")) for a in _list(dataset, parts, "areas")
                      if isinstance(a, dict)}
        for post in _list(dataset, parts, "posts"):
            if isinstance(post, dict) and post.get("id"):
                self.posts[text(post["id"])] = post
        self.by_id = self._organizations(_list(dataset, parts, "organizations"))

    def _organizations(self, organizations: list[Any]) -> dict[str, dict[str, Any]]:
        dataset = self.dataset
        for index, org in enumerate(organizations):
            loc = f"organizations[{index}]"
            if not isinstance(org, dict):
                dataset.problem(loc, "must be an object")
                continue
            if not text(org.get("id")):
                dataset.problem(f"{loc}.id", "missing")
            if not text(org.get("name")):
                dataset.problem(f"{loc}.name", "missing")
            parse_date(dataset, f"{loc}.founding_date", org.get("founding_date"))
            parse_date(dataset, f"{loc}.dissolution_date", org.get("dissolution_date"))
        by_id = {text(o.get("id")): o for o in organizations if isinstance(o, dict) and text(o.get("id"))}
        for key, org in by_id.items():
            classification = _CLASSIFICATIONS.get(text(org.get("classification")).lower(), OrgClassification.other)
            parent = text(org.get("parent_id")) or None
            if classification is OrgClassification.parliament and parent:
                classification = OrgClassification.chamber
            identifiers = [(text(i.get("scheme")), text(i.get("identifier"))) for i in org.get("identifiers") or []
                           if isinstance(i, dict) and text(i.get("scheme")) and text(i.get("identifier"))]
            dataset.add_org(OrgRecord(key=key, name=text(org.get("name")), classification=classification,
                                      parent_key=parent if parent in by_id else None,
                                      country=text(org.get("country") or self.country).upper()[:8],
                                      abbreviation=text(org.get("abbreviation") or org.get("acronym"))[:80],
                                      identifiers=identifiers))
        return by_id

    def memberships_not_a_list(self) -> None:
        self._membership_problem(-1, FieldError("memberships", "must be a list"))

    def add_membership(self, index: int, membership: Any) -> None:
        """Keep a membership until its person is read."""
        if not isinstance(membership, dict):
            self._membership_problem(index, FieldError(f"memberships[{index}]", "must be an object"))
            return
        shared = self._shared
        entry = (index, *(shared.setdefault(v, v) if isinstance(v, str) else v
                          for v in map(membership.get, _SHARED_FIELDS)), membership.get("label"))
        key = text(membership.get("person_id"))
        held = self.memberships.get(key)
        if held is None:
            self.memberships[key] = entry
        elif isinstance(held, list):
            held.append(entry)
        else:
            self.memberships[key] = [held, entry]

    def _membership_problem(self, index: int, error: FieldError) -> None:
        self.dataset.problems.append(error)
        self.membership_problems.append((index, error))

    def _membership(self, entry: tuple[Any, ...]) -> MembershipRecord | None:
        index, organization_id, on_behalf_of_id, post_id, role, area_id, start_date, end_date, label = entry
        dataset = self.dataset
        loc = f"memberships[{index}]"
        post = self.posts.get(text(post_id), {})
        org_key = text(organization_id) or text(post.get("organization_id"))
        if org_key not in self.by_id:
            self._membership_problem(index, FieldError(f"{loc}.organization_id", f"no organisation with id {org_key!r}"))
            return None
        party = text(on_behalf_of_id) or None
        if party and party not in self.by_id:
            self._membership_problem(index, FieldError(f"{loc}.on_behalf_of_id", f"no organisation with id {party!r}"))
            return None
        area = post.get("area") if isinstance(post.get("area"), dict) else {}
        post_label = text(post.get("label")) or text(label if not post else "") or self.areas.get(text(area_id), "")
        post_code = text(area.get("pcon_code") or area.get("id")) or text(post_id)
        found = len(dataset.problems)
        record = MembershipRecord(
            org_key=org_key, role=text(role or post.get("role")), post_label=post_label, post_id=post_code,
            on_behalf_of_key=party, country=text(dataset.organizations[org_key].country or self.country),
            start_date=parse_date(dataset, f"{loc}.start_date", start_date),
            end_date=parse_date(dataset, f"{loc}.end_date", end_date))
        self.membership_problems.extend((index, error) for error in dataset.problems[found:])
        return record

    def people(self, persons: Iterable[Any], size: int = CHUNK) -> Iterator[list[PersonRecord]]:
        """The persons as records, ``size`` at a time, each with its memberships; then the
        problems in the order of a whole read."""
        dataset = self.dataset
        chunk: list[PersonRecord] = []
        for index, person in enumerate(persons):
            loc = f"persons[{index}]"
            if not isinstance(person, dict):
                dataset.problem(loc, "must be an object")
                continue
            record = _person(dataset, loc, person)
            if record is None:
                continue
            key = text(person.get("id")) or loc
            if key in self.person_keys:
                dataset.problem(f"{loc}.id", f"{key!r} is used by another person too")
            self.person_keys.add(key)
            held = self.memberships.pop(key, ())
            for entry in held if isinstance(held, list) else (held,) if held else ():
                membership = self._membership(entry)
                if membership is not None:
                    record.memberships.append(membership)
            chunk.append(record)
            if len(chunk) >= size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk
        self._finish()

    def _finish(self) -> None:
        for key, held in self.memberships.items():
            for entry in held if isinstance(held, list) else (held,):
                self._membership_problem(entry[0], FieldError(f"memberships[{entry[0]}].person_id",
                                                              f"no person with id {key!r}"))
        self.memberships.clear()
        problems = self.dataset.problems
        late = {id(error) for _, error in self.membership_problems}
        self.membership_problems.sort(key=lambda pair: pair[0])
        problems[:] = [e for e in problems if id(e) not in late] + [error for _, error in self.membership_problems]


def _person(dataset: Dataset, loc: str, person: dict[str, Any]) -> PersonRecord | None:
    name = text(person.get("name"))
    if not name:
        dataset.problem(f"{loc}.name", "missing: every person needs a name")
        return None
    emails = [text(person.get("email"))] if text(person.get("email")) else []
    phones, addresses, links = [], [], []
    for detail in person.get("contact_details") or []:
        if not isinstance(detail, dict):
            continue
        kind, value = text(detail.get("type")).lower(), text(detail.get("value"))
        if not value:
            continue
        if kind == "email":
            if value not in emails:
                emails.append(value)
        elif kind in _PHONE_TYPES:
            phones.append({"label": text(detail.get("label")) or kind, "value": value})
        elif kind == "address":
            addresses.append({"label": text(detail.get("label")), "value": value})
        else:
            links.append({"note": kind, "url": value})
    for link in person.get("links") or []:
        if isinstance(link, dict) and text(link.get("url")):
            links.append({"note": text(link.get("note")), "url": text(link.get("url"))})
    prefix, suffix = text(person.get("honorific_prefix")), text(person.get("honorific_suffix"))
    honorific = text(person.get("honorific_name"))
    if honorific and name in honorific and not (prefix or suffix):
        prefix, _, suffix = (part.strip() for part in honorific.partition(name))
    other_names = [text(o.get("name")) for o in person.get("other_names") or []
                   if isinstance(o, dict) and text(o.get("name")) and text(o.get("name")) != name]
    emails = usable_emails(dataset, loc, emails)
    # A social handle that a link already gives in full is the same thing twice.
    full_urls = " ".join(link["url"].lower() for link in links if link["url"].startswith("http"))
    links = [link for link in links if link["url"].startswith("http") or link["url"].lower() not in full_urls]
    values = person_values(
        name=name, given_name=text(person.get("given_name")), family_name=text(person.get("family_name")),
        sort_name=text(person.get("sort_name")), honorific_prefix=prefix, honorific_suffix=suffix,
        other_names=other_names, emails=emails, phones=phones, addresses=addresses, links=links,
        image_url=text(person.get("image"))[:500], gender=text(person.get("gender"))[:40],
        birth_date=parse_date(dataset, f"{loc}.birth_date", person.get("birth_date")))
    identifiers = []
    for entry in person.get("identifiers") or ():
        if isinstance(entry, dict):
            scheme, value = text(entry.get("scheme")), text(entry.get("identifier"))
            # A constituency code is the seat's id, not the person's: a by-election
            # winner inherits it, so it must not match people.
            if scheme and value and scheme not in _SEAT_SCHEMES:
                identifiers.append((scheme, value))
    popolo_id = text(person.get("id"))
    if popolo_id:
        identifiers.append(("popolo_id", popolo_id))
    return PersonRecord(ref=loc, values=values, identifiers=list(dict.fromkeys(identifiers)))


_PARTS = ("areas", "posts", "organizations")


@dataclass
class Stream:
    """A Popolo JSON file being read: its organisations and problems so far, how many persons
    it lists, and the persons, a chunk at a time, as they are read."""

    dataset: Dataset
    total: int
    chunks: Iterator[list[PersonRecord]]


_ITEMS = "persons.item"


def stream(source: BinaryIO, start: int, *, filename: str, country: str = "") -> Stream | None:
    """Read a Popolo JSON file without holding it: the file is read once for everything but the
    persons (checking all of it, after a quick search for NUL escapes), then once more for the
    persons. None when it is JSON but not Popolo, or when it must be read whole to be read right.
    Raises InvalidInput, or jsonfile.Unreadable when it is not JSON the stream can read."""
    dataset = Dataset(source=filename)
    reader = Reader(dataset, country=country)
    found = jsonfile.scan(source, start, filename or "The file", whole=_PARTS,
                          each={"memberships": reader.add_membership}, once=("memberships", "persons"))
    # ijson names an item of "persons" by the path "persons.item", which is also the path of a
    # top-level key spelled that way: such a file is read whole, where that key is just ignored.
    if found.root != "start_map" or found.kinds.get("persons") != "start_array" or _ITEMS in found.kinds:
        return None
    reader.read_parts(found.values)
    memberships = found.values.get("memberships")
    if memberships and not isinstance(memberships, list):
        reader.memberships_not_a_list()
    return Stream(dataset=dataset, total=found.counts["persons"],
                  chunks=reader.people(jsonfile.items(source, start, _ITEMS)))
