"""People, organisations, memberships, stances and segments, shaped after the Popolo standard.

A person's name is also kept normalised (accents and case removed) in ``search_name`` and
``sort_key``, computed in Python, so name search and ordering behave the same on SQLite
and PostgreSQL without collations or extensions.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Field, SQLModel

from campaign.db import UTCDateTime, str_enum, utcnow


_NOT_WORD = re.compile(r"[\W_]+")
# Letters that Unicode does not decompose into a base letter and an accent.
_UNDECOMPOSED = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe", "ı": "i"})


def normalise_name(text: str) -> str:
    """Lower case, accents dropped, punctuation and runs of spaces folded: 'Séverine  WERBROUCK' -> 'severine werbrouck'."""
    text = text or ""
    if not text.isascii():
        text = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
        text = text.casefold().translate(_UNDECOMPOSED)
    return _NOT_WORD.sub(" ", text.casefold()).strip()


class OrgClassification(StrEnum):
    parliament = "parliament"
    chamber = "chamber"
    party = "party"
    parliamentary_group = "parliamentary_group"
    committee = "committee"
    department = "department"
    cross_party_group = "cross_party_group"
    ngo = "ngo"
    government = "government"
    other = "other"


class Position(StrEnum):
    """The stance scale, strongest support first."""

    champion = "champion"
    supportive = "supportive"
    leaning_for = "leaning_for"
    undecided = "undecided"
    leaning_against = "leaning_against"
    opposed = "opposed"
    unknown = "unknown"


class StanceSource(StrEnum):
    evidence = "evidence"
    response = "response"
    url = "url"
    note = "note"


class Organization(SQLModel, table=True):
    __tablename__ = "organization"
    __table_args__ = (sa.Index("ix_organization_classification_name", "classification", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=300)
    abbreviation: str = Field(default="", max_length=80)
    classification: OrgClassification = Field(sa_type=str_enum(OrgClassification))
    parent_id: int | None = Field(default=None, foreign_key="organization.id", index=True, ondelete="SET NULL")
    country: str = Field(default="", max_length=8, description="ISO 3166-1 alpha-2, upper case; empty when several.")
    url: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Person(SQLModel, table=True):
    __tablename__ = "person"
    __table_args__ = (sa.Index("ix_person_sort_key_id", "sort_key", "id"),
                      # With the id, PostgreSQL counts a name search from the index alone (SQLite's
                      # indexes carry the rowid anyway) instead of reading every wide person row.
                      sa.Index("ix_person_search_name_id", "search_name", "id"))

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=300, description="The name as usually shown, without honorifics.")
    given_name: str = Field(default="", max_length=200)
    family_name: str = Field(default="", max_length=200)
    sort_name: str = Field(default="", max_length=300)
    honorific_prefix: str = Field(default="", max_length=100, description='"The Rt Hon", "Lord", "Dr".')
    honorific_suffix: str = Field(default="", max_length=100, description='"MP", "KC", "OBE".')
    other_names: list[str] = Field(default_factory=list, sa_type=JSON)
    search_name: str = Field(default="", max_length=600, description="normalise_name of name and other names.")
    sort_key: str = Field(default="", max_length=300)
    email: str = Field(default="", max_length=320, index=True, description="Main e-mail; empty when none is known.")
    emails: list[str] = Field(default_factory=list, sa_type=JSON)
    phones: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON, description="[{label, value}]")
    addresses: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON, description="[{label, value}]")
    links: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON, description="[{note, url}]")
    image_url: str = Field(default="", max_length=500)
    gender: str = Field(default="", max_length=40)
    birth_date: date | None = None
    notes: str = Field(default="", sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Identifier(SQLModel, table=True):
    """An outside id (parliament member id, Wikidata, bioguide...) of a person or an organisation."""

    __tablename__ = "identifier"
    __table_args__ = (
        sa.UniqueConstraint("scheme", "value"),
        sa.CheckConstraint("(person_id IS NULL) <> (organization_id IS NULL)", name="one_owner"),
    )

    id: int | None = Field(default=None, primary_key=True)
    scheme: str = Field(max_length=80)
    value: str = Field(max_length=300)
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True, ondelete="CASCADE")
    organization_id: int | None = Field(default=None, foreign_key="organization.id", index=True, ondelete="CASCADE")


class PersonTag(SQLModel, table=True):
    __tablename__ = "person_tag"

    person_id: int = Field(foreign_key="person.id", primary_key=True, ondelete="CASCADE")
    tag: str = Field(max_length=80, primary_key=True, index=True)


class Membership(SQLModel, table=True):
    """A person in an organisation: a seat in a chamber, a party, a group, a committee."""

    __tablename__ = "membership"
    __table_args__ = (sa.Index("ix_membership_organization_id_end_date", "organization_id", "end_date"),
                      # Covers the directory's "has a membership in ..." tests without reading the rows.
                      sa.Index("ix_membership_person_id_organization_id", "person_id", "organization_id",
                               "on_behalf_of_id", "end_date"))

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE")
    organization_id: int = Field(foreign_key="organization.id", ondelete="CASCADE")
    role: str = Field(default="", max_length=200)
    post_label: str = Field(default="", max_length=300, description="Constituency, region, state and district.")
    post_id: str = Field(default="", max_length=200, description="The post's code in its source (a GSS code...).")
    on_behalf_of_id: int | None = Field(default=None, foreign_key="organization.id", index=True, ondelete="SET NULL")
    country: str = Field(default="", max_length=8, index=True, description="Country represented, ISO alpha-2 upper case.")
    start_date: date | None = None
    end_date: date | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# SQLite uses a partial index only when the query repeats its condition word for word, and
# SQLAlchemy writes a true boolean test as "is_current = 1" there (PostgreSQL simplifies it).
_CURRENT = {"sqlite_where": sa.text("is_current = 1"), "postgresql_where": sa.text("is_current")}


class Stance(SQLModel, table=True):
    """One recorded position of a person on an ask. A change is a new row.

    ``is_current`` marks the latest row of each person and ask (the only field ever updated),
    so the directory reads the current stance from a small partial index instead of
    finding the newest row per person on every request. contacts.service keeps it right.
    """

    __tablename__ = "stance"
    __table_args__ = (sa.Index("ix_stance_person_id_ask_id", "person_id", "ask_id"),
                      sa.Index("uq_stance_current_person_id_ask_id", "person_id", "ask_id", unique=True,
                               **_CURRENT),
                      sa.Index("ix_stance_current_ask_id_position", "ask_id", "position", "person_id",
                               **_CURRENT))

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE")
    ask_id: int = Field(foreign_key="ask.id", index=True, ondelete="CASCADE")
    position: Position = Field(sa_type=str_enum(Position))
    source_kind: StanceSource = Field(sa_type=str_enum(StanceSource))
    # No foreign key yet: the evidence and response tables arrive in later migrations.
    source_evidence_id: int | None = None
    source_response_id: int | None = None
    source_url: str = Field(default="", max_length=1000)
    source_note: str = Field(default="", sa_type=sa.Text)
    recorded_by: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    is_current: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})


class Segment(SQLModel, table=True):
    """A saved directory filter, evaluated afresh each time it is used."""

    __tablename__ = "segment"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    description: str = Field(default="", sa_type=sa.Text)
    campaign_id: int | None = Field(default=None, foreign_key="campaign.id", index=True, ondelete="CASCADE")
    filter: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_by: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
