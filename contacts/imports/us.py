"""US Congress from the unitedstates/congress-legislators files (YAML or JSON).

``legislators-current`` gives the people and every term they served (each term a
membership of the Senate or the House). When they sit beside it,
``committees-current``, ``committee-membership-current`` and
``legislators-social-media`` add the committees, their members and social links.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from contacts.imports.core import Dataset, MembershipRecord, OrgRecord, PersonRecord, parse_date, person_values, text
from contacts.models import OrgClassification

CONGRESS, SENATE, HOUSE = "congress", "senate", "house"
TERRITORIES = {"DC", "PR", "GU", "VI", "AS", "MP"}
_PERSON_SCHEMES = ("bioguide", "thomas", "lis", "govtrack", "opensecrets", "votesmart", "cspan", "wikidata", "icpsr",
                   "house_history")


def looks_like_legislators(data: Any) -> bool:
    return (isinstance(data, list) and bool(data) and isinstance(data[0], dict)
            and isinstance(data[0].get("id"), dict) and "bioguide" in data[0]["id"] and "terms" in data[0])


def sibling(path: Path, stem: str) -> Path | None:
    for suffix in (path.suffix, ".yaml", ".json"):
        candidate = path.with_name(stem + suffix)
        if candidate.is_file():
            return candidate
    return None


def parse(legislators: Any, *, source: str = "legislators-current", committees: Any = None,
          committee_membership: Any = None, social: Any = None) -> Dataset:
    dataset = Dataset(source=source)
    add = dataset.add_org
    add(OrgRecord(key=CONGRESS, name="United States Congress", classification=OrgClassification.parliament,
                  country="US", identifiers=[("wikidata", "Q11268")]))
    add(OrgRecord(key=SENATE, name="United States Senate", classification=OrgClassification.chamber,
                  parent_key=CONGRESS, country="US", identifiers=[("wikidata", "Q66096")]))
    add(OrgRecord(key=HOUSE, name="United States House of Representatives", classification=OrgClassification.chamber,
                  parent_key=CONGRESS, country="US", identifiers=[("wikidata", "Q11701")]))
    if not isinstance(legislators, list):
        dataset.problem("legislators", "a legislators file is a list of people")
        return dataset
    _committees(dataset, committees)

    socials: dict[str, dict[str, Any]] = {}
    for entry in social if isinstance(social, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("id"), dict) and isinstance(entry.get("social"), dict):
            socials[text(entry["id"].get("bioguide"))] = entry["social"]

    by_bioguide: dict[str, PersonRecord] = {}
    for index, person in enumerate(legislators):
        loc = f"legislators[{index}]"
        record = _person(dataset, loc, person, socials)
        if record is not None:
            bioguide = record.identifiers[0][1]
            if bioguide in by_bioguide:
                dataset.problem(f"{loc}.id.bioguide", f"{bioguide} is also {by_bioguide[bioguide].ref}")
            by_bioguide[bioguide] = record
            dataset.people.append(record)

    if isinstance(committee_membership, dict):
        for committee_id, members in committee_membership.items():
            org_key = f"committee:{committee_id}"
            if org_key not in dataset.organizations:
                dataset.skipped.append((f"committee-membership {committee_id}", "no such committee in committees-current"))
                continue
            for position, member in enumerate(members if isinstance(members, list) else []):
                bioguide = text(member.get("bioguide")) if isinstance(member, dict) else ""
                record = by_bioguide.get(bioguide)
                if record is None:
                    dataset.skipped.append((f"committee-membership {committee_id}[{position}]",
                                            f"{text(member.get('name')) if isinstance(member, dict) else ''} "
                                            f"({bioguide or 'no bioguide'}) is not a current legislator"))
                    continue
                record.memberships.append(MembershipRecord(org_key=org_key, role=text(member.get("title")) or "Member",
                                                           country="US"))
    return dataset


def _committees(dataset: Dataset, committees: Any) -> None:
    for index, committee in enumerate(committees if isinstance(committees, list) else []):
        loc = f"committees[{index}]"
        if not isinstance(committee, dict) or not text(committee.get("thomas_id")) or not text(committee.get("name")):
            dataset.problem(loc, "a committee needs a thomas_id and a name")
            continue
        thomas = text(committee["thomas_id"])
        parent = {"senate": SENATE, "house": HOUSE}.get(text(committee.get("type")), CONGRESS)
        key = f"committee:{thomas}"
        dataset.add_org(OrgRecord(key=key, name=text(committee["name"]), classification=OrgClassification.committee,
                                  parent_key=parent, country="US", url=text(committee.get("url"))[:500],
                                  abbreviation=thomas, identifiers=[("thomas_committee", thomas)]))
        for sub in committee.get("subcommittees") or []:
            if isinstance(sub, dict) and text(sub.get("thomas_id")) and text(sub.get("name")):
                code = thomas + text(sub["thomas_id"])
                dataset.add_org(OrgRecord(key=f"committee:{code}", name=f"{text(committee['name'])}: {text(sub['name'])}",
                                          classification=OrgClassification.committee, parent_key=key, country="US",
                                          abbreviation=code, identifiers=[("thomas_committee", code)]))


def _person(dataset: Dataset, loc: str, person: Any, socials: dict[str, dict[str, Any]]) -> PersonRecord | None:
    if not isinstance(person, dict):
        dataset.problem(loc, "must be an object")
        return None
    ids = person.get("id") if isinstance(person.get("id"), dict) else {}
    names = person.get("name") if isinstance(person.get("name"), dict) else {}
    bio = person.get("bio") if isinstance(person.get("bio"), dict) else {}
    terms = person.get("terms") if isinstance(person.get("terms"), list) else []
    bioguide = text(ids.get("bioguide"))
    name = text(names.get("official_full")) or " ".join(filter(None, [text(names.get("first")), text(names.get("last"))]))
    if not bioguide:
        dataset.problem(f"{loc}.id.bioguide", "missing")
    if not name:
        dataset.problem(f"{loc}.name", "missing: needs official_full or first and last")
    if not terms:
        dataset.problem(f"{loc}.terms", "missing: a legislator has at least one term")
    if not (bioguide and name and terms):
        return None
    current = terms[-1] if isinstance(terms[-1], dict) else {}
    identifiers = [(scheme, text(ids[scheme])) for scheme in _PERSON_SCHEMES if text(ids.get(scheme))]
    identifiers += [("fec", text(fec)) for fec in ids.get("fec") or [] if text(fec)]
    links = [{"note": note, "url": text(current.get(key))} for key, note in
             (("url", "website"), ("contact_form", "contact form"), ("rss_url", "rss")) if text(current.get(key))]
    social = socials.get(bioguide, {})
    for key, prefix in (("twitter", "https://x.com/"), ("facebook", "https://www.facebook.com/"),
                        ("youtube", "https://www.youtube.com/"), ("instagram", "https://www.instagram.com/")):
        if text(social.get(key)):
            links.append({"note": key, "url": prefix + text(social[key])})
    phones = [{"label": label, "value": text(current.get(key))} for key, label in
              (("phone", "Washington office"), ("fax", "fax")) if text(current.get(key))]
    addresses = [{"label": "Washington office", "value": text(current.get("address"))}] if text(current.get("address")) else []
    nickname = text(names.get("nickname"))
    values = person_values(
        name=name, given_name=text(names.get("first")), family_name=text(names.get("last")),
        honorific_prefix="Sen." if current.get("type") == "sen" else "Rep.",
        other_names=[f"{nickname} {text(names.get('last'))}"] if nickname else [],
        phones=phones, addresses=addresses, links=links, gender=text(bio.get("gender")),
        birth_date=parse_date(dataset, f"{loc}.bio.birthday", bio.get("birthday")))
    record = PersonRecord(ref=loc, values=values, identifiers=identifiers)
    for position, term in enumerate(terms):
        tloc = f"{loc}.terms[{position}]"
        if not isinstance(term, dict) or term.get("type") not in ("sen", "rep"):
            dataset.problem(f"{tloc}.type", "must be sen or rep")
            continue
        state = text(term.get("state"))
        party = text(term.get("party"))
        if term["type"] == "sen":
            chamber, role, label = SENATE, "Senator", f"{state} (class {text(term.get('class'))})"
        else:
            district = text(term.get("district"))
            chamber = HOUSE
            role = ("Resident Commissioner" if state == "PR" else "Delegate") if state in TERRITORIES else "Representative"
            label = f"{state} at-large" if district in ("0", "") else f"{state}-{district}"
        party_key = None
        if party:
            party_key = f"party:{party}"
            dataset.add_org(OrgRecord(key=party_key, name=party, classification=OrgClassification.party, country="US"))
        record.memberships.append(MembershipRecord(
            org_key=chamber, role=role, post_label=label, post_id=label, on_behalf_of_key=party_key, country="US",
            start_date=parse_date(dataset, f"{tloc}.start", term.get("start")),
            end_date=parse_date(dataset, f"{tloc}.end", term.get("end"))))
    return record
