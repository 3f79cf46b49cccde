"""Importing legislators: Popolo JSON, European Parliament MEPs, US Congress, mapped CSV.

``import_file`` is what the CLI, the upload page and the API call: it reads the file
(refusing one over the size limit), detects or checks its format, parses it into a
dataset that lists every problem, and writes it all or nothing.

A Popolo JSON file, the one format that comes in tens of thousands of people, is read as a
stream (``popolo.stream``) and written a chunk of people at a time inside one savepoint, so
memory stays flat whatever its size; every other file (and a Popolo file in YAML, or JSON the
stream cannot read) is read whole.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, BinaryIO

import yaml
from sqlmodel import Session

from campaign.errors import FieldError, InvalidInput
from contacts.imports import csv_mapping, ep, jsonfile, popolo, us
from contacts.imports.core import Dataset, ImportReport, Progress, apply_dataset, apply_people, readable_rows
from contacts.imports.jsonfile import MAX_DEPTH
from contacts.models import OrgClassification

__all__ = ["ImportFormat", "ImportReport", "CsvPreview", "import_file", "preview_csv", "detect_format"]


class ImportFormat(StrEnum):
    auto = "auto"
    popolo = "popolo"
    ep_meps = "ep-meps"
    us_congress = "us-congress"
    csv = "csv"


@dataclass
class CsvPreview:
    header: list[str]
    mapping: dict[str, str]
    rows: list[dict[str, Any]] = field(default_factory=list)
    problems: list[FieldError] = field(default_factory=list)
    people: int = 0


def _read(path: Path | None, content: bytes | None, max_bytes: int | None, filename: str) -> bytes:
    if content is None:
        if path is None:
            raise InvalidInput("No file was given.", errors=[FieldError("file", "missing")])
        if not path.is_file():
            raise InvalidInput(f"{path} is not a file.", errors=[FieldError("file", "not found")])
        size = path.stat().st_size
        if max_bytes is not None and size > max_bytes:
            raise _too_large(filename or path.name, size, max_bytes)
        content = path.read_bytes()
    if max_bytes is not None and len(content) > max_bytes:
        raise _too_large(filename, len(content), max_bytes)
    if not content.strip():
        raise InvalidInput(f"{filename or 'The file'} is empty.", errors=[FieldError("file", "empty")])
    return content


def _too_large(name: str, size: int, limit: int) -> InvalidInput:
    return InvalidInput(f"{name or 'The file'} is too large ({size:,} bytes; the limit is {limit:,}).",
                        errors=[FieldError("file", f"larger than {limit:,} bytes")])


_COMPRESSED = {b"\x1f\x8b": "gzip", b"PK\x03\x04": "zip", b"BZh": "bzip2", b"\xfd7zXZ\x00": "xz",
               b"7z\xbc\xaf\x27\x1c": "7z", b"\x28\xb5\x2f\xfd": "zstd"}


def _text(content: bytes, filename: str) -> str:
    # Never decompressed: a small archive can expand to far beyond the upload limit.
    kind = next((name for magic, name in _COMPRESSED.items() if content.startswith(magic)), None)
    if kind == "zip" and filename.lower().endswith((".xlsx", ".ods", ".numbers")):
        raise InvalidInput(f"{filename} is a spreadsheet workbook: save the sheet as CSV (UTF-8) and upload that.",
                           errors=[FieldError("file", "spreadsheet workbook, not CSV")])
    if kind:
        raise InvalidInput(f"{filename or 'The file'} is a compressed ({kind}) file: imports read plain files only. "
                           "Extract it and upload the file inside.",
                           errors=[FieldError("file", f"compressed ({kind})")])
    try:
        decoded = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = content[:error.start].count(b"\n") + 1
        raise InvalidInput(f"{filename or 'The file'} is not UTF-8 text.",
                           errors=[FieldError(f"line {line}", "not UTF-8 (save the file as UTF-8)")]) from None
    nul = decoded.find("\x00")
    if nul >= 0:
        # PostgreSQL cannot store the character, and no text file of contacts holds one.
        raise InvalidInput(f"{filename or 'The file'} is not a text file: it contains a NUL character.",
                           errors=[FieldError(f"line {decoded.count(chr(10), 0, nul) + 1}", "NUL character")])
    return decoded


def _csv_header(text: str, filename: str) -> list[str]:
    checked = Dataset(source=filename)
    header = next(iter(readable_rows(csv.reader(io.StringIO(text.split("\n", 1)[0])), checked)), [])
    if checked.problems:
        raise InvalidInput(f"{filename or 'The file'}: the header row is not a readable CSV.", errors=checked.problems)
    return header


def _checked(data: Any, filename: str, *, from_yaml: bool, strings: bool) -> Any:
    """Refuse nesting deeper than MAX_DEPTH, YAML aliases (one object reached twice: the
    'billion laughs' that expands exponentially when read) and, when ``strings``, NUL
    characters in values."""
    name = filename or "The file"
    if not isinstance(data, (dict, list)):
        if strings and isinstance(data, str) and "\x00" in data:
            raise jsonfile.nul_in_value(name)
        return data
    seen: set[int] = set()
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise jsonfile.nested(name)
        if from_yaml:
            if id(value) in seen:
                raise InvalidInput(f"{name} uses YAML aliases (*name), which imports do not accept: write the values "
                                   "out in full.", errors=[FieldError("file", "YAML alias")])
            seen.add(id(value))
        children = [*value.keys(), *value.values()] if strings and isinstance(value, dict) else \
            value.values() if isinstance(value, dict) else value
        for child in children:
            if isinstance(child, (dict, list)):
                stack.append((child, depth + 1))
            elif strings and isinstance(child, str) and "\x00" in child:
                raise jsonfile.nul_in_value(name)
    return data


# Above this, a file is first parsed keeping no objects, so that one broken near its end
# is refused without first building everything before the break.
_PROBE_FROM = 1 << 20


def _nothing(pairs: Any) -> None:
    return None


def _structured(text: str, filename: str, *, yaml_allowed: bool) -> Any:
    try:
        if len(text) > _PROBE_FROM:
            json.loads(text, object_pairs_hook=_nothing)
        # Only a \\u0000 escape can put a NUL into JSON values (_text refuses a raw one).
        return _checked(json.loads(text), filename, from_yaml=False, strings="\\u0000" in text)
    except json.JSONDecodeError as error:
        if not yaml_allowed:
            raise InvalidInput(f"{filename or 'The file'} is not valid JSON.",
                               errors=[FieldError(f"line {error.lineno}, column {error.colno}", error.msg)]) from None
    except RecursionError:
        raise jsonfile.nested(filename or "The file") from None
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        loc = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "file"
        raise InvalidInput(f"{filename or 'The file'} is not valid JSON or YAML.",
                           errors=[FieldError(loc, str(getattr(error, "problem", None) or error))]) from None
    return _checked(data, filename, from_yaml=True, strings=True)


def _load_sibling(path: Path | None, stem: str) -> Any:
    if path is None:
        return None
    found = us.sibling(path, stem)
    if found is None:
        return None
    return _structured(_text(found.read_bytes(), found.name), found.name, yaml_allowed=True)


_CSV_SUFFIXES = (".csv", ".tsv", ".txt")


def detect_format(filename: str, text: str) -> tuple[ImportFormat, Any]:
    """The format of a file from its name and content, and the parsed data when it is JSON/YAML."""
    lowered = filename.lower()
    if lowered.endswith(_CSV_SUFFIXES):
        header = _csv_header(text, filename)
        return (ImportFormat.ep_meps if ep.looks_like_meps_csv(header) else ImportFormat.csv), None
    data = _structured(text, filename, yaml_allowed=not lowered.endswith(".json"))
    if popolo.looks_like_popolo(data):
        return ImportFormat.popolo, data
    if ep.looks_like_meps_json(data):
        return ImportFormat.ep_meps, data
    if us.looks_like_legislators(data):
        return ImportFormat.us_congress, data
    raise InvalidInput(f"{filename or 'The file'}: the format was not recognised.",
                       errors=[FieldError("file", "expected Popolo JSON, EP meps.json/meps.csv, US legislators "
                                                  "JSON/YAML, or a CSV")])


def parse_file(*, path: Path | None = None, content: bytes | None = None, filename: str = "",
               fmt: ImportFormat | str = ImportFormat.auto, country: str = "", mapping: dict[str, str] | None = None,
               max_bytes: int | None = None) -> Dataset:
    """Read and check a whole file without touching the database."""
    filename = filename or (path.name if path else "upload")
    raw = _read(path, content, max_bytes, filename)
    text = _text(raw, filename)
    fmt = ImportFormat(fmt)
    detected, data = detect_format(filename, text) if fmt is ImportFormat.auto else (fmt, None)
    directory = path.parent if path is not None else None
    if detected is ImportFormat.csv:
        return csv_mapping.parse(io.StringIO(text, newline=""), mapping=mapping, source=filename,
                                 default_country=country)
    if detected is ImportFormat.ep_meps and (filename.lower().endswith(".csv") or text.lstrip()[:1] not in "[{"):
        return ep.parse_csv(text, source=filename, lookups=ep.load_lookups(directory))
    if data is None:
        data = _structured(text, filename, yaml_allowed=detected is ImportFormat.us_congress)
    if detected is ImportFormat.popolo:
        return popolo.parse(data, source=filename, country=country)
    if detected is ImportFormat.ep_meps:
        return ep.parse_json(data, source=filename, lookups=ep.load_lookups(directory))
    return us.parse(data, source=filename, committees=_load_sibling(path, "committees-current"),
                    committee_membership=_load_sibling(path, "committee-membership-current"),
                    social=_load_sibling(path, "legislators-social-media"))


def import_file(session: Session, *, path: Path | None = None, content: bytes | None = None,
                upload: BinaryIO | None = None, filename: str = "", fmt: ImportFormat | str = ImportFormat.auto,
                country: str = "", mapping: dict[str, str] | None = None, max_bytes: int | None = None,
                actor: Any = None, progress: Progress | None = None) -> ImportReport:
    """Import a whole file, or nothing: InvalidInput lists every problem by record/line and field.

    The file is ``path``, ``content``, or ``upload``: an open binary file (an upload the web
    server spooled to disk), streamed like a path rather than read into memory first.
    """
    filename = filename or (path.name if path else "upload")
    with _popolo_stream(path=path, content=content, upload=upload, filename=filename, fmt=ImportFormat(fmt),
                        country=country, max_bytes=max_bytes) as stream:
        if stream is not None:
            return apply_people(session, stream.dataset, stream.chunks, total=stream.total, actor=actor,
                                progress=progress)
    if upload is not None:
        upload.seek(0)
        content = upload.read() if max_bytes is None else upload.read(max_bytes + 1)
    dataset = parse_file(path=path, content=content, filename=filename, fmt=fmt, country=country, mapping=mapping,
                         max_bytes=max_bytes)
    return apply_dataset(session, dataset, actor=actor, progress=progress)


@contextlib.contextmanager
def _popolo_stream(*, path: Path | None, content: bytes | None, upload: BinaryIO | None, filename: str,
                   fmt: ImportFormat, country: str, max_bytes: int | None) -> Iterator[popolo.Stream | None]:
    """A Popolo JSON file as a stream, or None: the file is then read whole (other formats, YAML,
    and every file the stream cannot read, which reading whole describes in the usual words)."""
    if fmt not in (ImportFormat.auto, ImportFormat.popolo) or (
            fmt is ImportFormat.auto and filename.lower().endswith(_CSV_SUFFIXES)):
        yield None
        return
    with _opened(path, content, upload, max_bytes) as source:
        found = None
        if source is not None:
            start, first = jsonfile.opening(source)
            if first == b"{":
                try:
                    found = popolo.stream(source, start, filename=filename, country=country)
                except jsonfile.Unreadable:
                    found = None
        yield found


@contextlib.contextmanager
def _opened(path: Path | None, content: bytes | None, upload: BinaryIO | None,
            max_bytes: int | None) -> Iterator[BinaryIO | None]:
    """The file to stream, or None when reading it whole is what refuses it (missing, too large)."""
    if upload is not None:
        size = upload.seek(0, io.SEEK_END)
        upload.seek(0)
        yield upload if max_bytes is None or size <= max_bytes else None
    elif content is not None:
        yield io.BytesIO(content) if max_bytes is None or len(content) <= max_bytes else None
    elif path is None or not path.is_file() or (max_bytes is not None and path.stat().st_size > max_bytes):
        yield None
    else:
        with path.open("rb") as source:
            yield source


def preview_csv(*, content: bytes, filename: str = "contacts.csv", mapping: dict[str, str] | None = None,
                country: str = "", max_bytes: int | None = None) -> CsvPreview:
    """What a mapped CSV would import: the first rows as read, and every problem. Writes nothing."""
    text = _text(_read(None, content, max_bytes, filename), filename)
    header = _csv_header(text, filename)
    chosen = mapping if mapping is not None else csv_mapping.guess_mapping(header)
    rows: list[dict[str, Any]] = []
    dataset = csv_mapping.parse(io.StringIO(text, newline=""), mapping=chosen, source=filename,
                                default_country=country, preview_rows=rows,
                                organization_classification=OrgClassification.chamber)
    return CsvPreview(header=header, mapping=chosen, rows=rows, problems=dataset.problems, people=len(dataset.people))
