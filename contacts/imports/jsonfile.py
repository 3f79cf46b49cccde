"""Reading a large JSON file a part at a time, with the checks that reading it whole makes.

A Popolo file of tens of thousands of people is tens of megabytes of JSON and ten times that
as Python objects, too much for one process (issue #8). ``scan`` reads the file once as a
stream of parse events (ijson's C backend): it checks the nesting depth and NUL characters
everywhere, keeps the top-level values asked for whole (the small ones), hands the items of
another top-level list to a callback one at a time, and counts the rest; ``items`` then reads
the items of one top-level list one at a time.

A file the stream cannot read (not JSON, not UTF-8, a NUL byte, a number too large for it)
raises ``Unreadable``: the caller reads it whole instead, which says what is wrong with it in
the same words as before, or reads it as YAML.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import ijson  # the fastest backend it has: yajl2_c, in C, from its wheels (pure Python is ten times slower)

from campaign.errors import FieldError, InvalidInput

# Real legislator files nest a few levels deep; a limit far above that refuses crafted
# files before anything walks them.
MAX_DEPTH = 64
BOM = b"\xef\xbb\xbf"
_WHITESPACE = b" \t\r\n"
_NUL_ESCAPE = b"\\u0000"
_BLOCK = 1 << 20
_OPEN = frozenset(("start_map", "start_array"))
_CLOSE = frozenset(("end_map", "end_array"))


class Unreadable(Exception):
    """The stream could not read the file; read it whole to say why."""


def nested(name: str) -> InvalidInput:
    return InvalidInput(f"{name} is nested more than {MAX_DEPTH} levels deep; no import format is.",
                        errors=[FieldError("file", f"nested more than {MAX_DEPTH} levels")])


def nul_in_value(name: str) -> InvalidInput:
    return InvalidInput(f"{name} contains a NUL character in a value.", errors=[FieldError("file", "NUL character")])


def opening(source: BinaryIO) -> tuple[int, bytes]:
    """Where the JSON text starts (after a UTF-8 byte order mark) and its first non-blank byte
    (b"" when there is none)."""
    source.seek(0)
    start = 3 if source.read(3) == BOM else 0
    source.seek(start)
    while block := source.read(65536):
        stripped = block.lstrip(_WHITESPACE)
        if stripped:
            return start, stripped[:1]
    return start, b""


def contains_nul_escape(source: BinaryIO) -> bool:
    """Whether the text has a \\u0000 escape, the only way JSON puts a NUL into a value."""
    source.seek(0)
    tail = b""
    while block := source.read(_BLOCK):
        if _NUL_ESCAPE in tail + block[:len(_NUL_ESCAPE)] or _NUL_ESCAPE in block:
            return True
        tail = block[-(len(_NUL_ESCAPE) - 1):]
    return False


@dataclass
class Scan:
    """What one read of a JSON file found at its top level."""

    root: str = ""  # the first event: "start_map" for an object
    kinds: dict[str, str] = field(default_factory=dict)  # top-level key -> first event of its value
    values: dict[str, Any] = field(default_factory=dict)  # the values kept whole
    counts: dict[str, int] = field(default_factory=dict)  # top-level key -> items in its list


def scan(source: BinaryIO, start: int, name: str, *, whole: Collection[str] = (),
         each: Mapping[str, Callable[[int, Any], None]] = {}, once: Collection[str] = ()) -> Scan:
    """Read the file once, checking it: keep the top-level values named in ``whole``, call
    ``each[key](index, item)`` for every item of those top-level lists (a value that is not a
    list is kept whole), and count the items of every top-level list.

    Raises InvalidInput for nesting deeper than MAX_DEPTH, a NUL character in a key or value,
    or a key of ``once`` given twice (a whole read would silently keep the last); those are
    reported only once the rest of the file has proved to be JSON, as a whole read would.
    Raises Unreadable when the file is not JSON the stream can read.
    """
    strings = contains_nul_escape(source)
    source.seek(start)
    found = Scan()
    refusal: InvalidInput | None = None
    depth = 0
    key = ""
    builder: Any = None
    base = 0  # the depth whose end completes what ``builder`` builds
    handler: Callable[[int, Any], None] | None = None
    index = 0
    counting = False
    try:
        for event, value in ijson.basic_parse(source, use_float=True):
            if depth > 2 and builder is None:
                # Inside an item that is not kept (a person): only the depth and NULs matter.
                if event in _OPEN:
                    depth += 1
                    if depth > MAX_DEPTH and refusal is None:
                        refusal = nested(name)
                        handler = None
                elif event in _CLOSE:
                    depth -= 1
                elif strings and (event == "string" or event == "map_key") and "\x00" in value and refusal is None:
                    refusal = nul_in_value(name)
                    handler = None
                continue
            if builder is not None:
                builder.event(event, value)
            if event == "start_map" or event == "start_array":
                depth += 1
                if depth == 3:
                    if counting:
                        found.counts[key] += 1
                        if handler is not None and builder is None:
                            builder = ijson.ObjectBuilder()
                            builder.event(event, value)
                            base = 3
                elif depth == 2:
                    found.kinds[key] = event
                    counting = event == "start_array"
                    if counting:
                        found.counts[key] = 0
                        index = 0
                        handler = each.get(key) if refusal is None else None
                    if refusal is None and (key in whole or (key in each and not counting)):
                        builder = ijson.ObjectBuilder()
                        builder.event(event, value)
                        base = 2
                elif depth == 1:
                    found.root = found.root or event
                elif depth > MAX_DEPTH and refusal is None:
                    refusal = nested(name)
                    builder = handler = None
            elif event == "end_map" or event == "end_array":
                depth -= 1
                if builder is not None and depth < base:
                    if base == 3:
                        handler(index, builder.value)  # type: ignore[misc]
                        index += 1
                    else:
                        found.values[key] = builder.value
                    builder = None
            else:
                if strings and (event == "string" or event == "map_key") and "\x00" in value and refusal is None:
                    refusal = nul_in_value(name)
                    builder = handler = None
                if event == "map_key":
                    if depth == 1:
                        key = value
                        counting = False
                        handler = None
                        if key in once and key in found.kinds and refusal is None:
                            refusal = InvalidInput(f"{name} gives {key!r} more than once.",
                                                   errors=[FieldError(key, "given more than once")])
                            builder = None
                elif depth == 2:
                    if counting:
                        found.counts[key] += 1
                        if handler is not None and builder is None:
                            handler(index, value)
                            index += 1
                elif depth == 1:
                    found.kinds[key] = event
                    if refusal is None and (key in whole or key in each):
                        found.values[key] = value
                elif depth == 0:
                    found.root = found.root or event
    except (ijson.JSONError, UnicodeDecodeError) as error:
        raise Unreadable(str(error)) from None
    if refusal is not None:
        raise refusal
    return found


def items(source: BinaryIO, start: int, path: str) -> Iterator[Any]:
    """The values at ijson's ``path`` ("persons.item": the items of the top-level list
    "persons"), one at a time; the file already passed ``scan``."""
    source.seek(start)
    return ijson.items(source, path, use_float=True)
