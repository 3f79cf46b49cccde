"""The template sandbox: Jinja2 with StrictUndefined, cite()/evidence(), and limits.

Templates are written by staff, so they run in ``ImmutableSandboxedEnvironment`` and
are also read before they run: a template that reaches for Python internals (dunder
attributes, ``format`` tricks, Flask-style ``request``/``config`` globals, ``cycler``
and friends) is refused with the line it is on, and the attempt is logged.

Rendering produces plain text in which citations and inline evidence are private-use
markers; ``letters.rendering.document`` turns that into the document model from which
HTML, text, PDF and DOCX are written. Nothing a template prints is markup, so the HTML
written later escapes all of it.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from functools import lru_cache
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from campaign.errors import FieldError, InvalidInput

log = logging.getLogger(__name__)

NOTE_OPEN = "\ue000"
BLOCK_OPEN = "\ue002"
MARK_CLOSE = "\ue001"
_PRIVATE = re.compile("[\ue000-\ue0ff]")
MARKER = re.compile(f"({NOTE_OPEN}|{BLOCK_OPEN})(\\d+){MARK_CLOSE}")


@dataclass(frozen=True)
class Limits:
    """What one rendering may use; a template past these is stopped, never left running."""

    max_source_chars: int = 100_000
    max_output_chars: int = 200_000
    max_seconds: float = 2.0
    max_number: int = 100_000  # the largest number a template may pass to a function or range()
    max_sequence: int = 10_000  # the longest string or list a template may build by repetition


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class EvidenceSnapshot:
    """One version of an evidence item as cited: what the letter says and where it comes from."""

    slug: str
    version: int
    kind: str
    title: str
    text: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)
    source_title: str = ""
    source_author: str = ""
    source_date: date | None = None
    source_url: str = ""
    accessed_date: date | None = None
    archive_url: str = ""
    evidence_version_id: int | None = None


EvidenceLookup = Callable[[str], EvidenceSnapshot]
"""slug -> snapshot; raises LookupError when the campaign has no such item."""


class RenderError(InvalidInput):
    """A template that cannot be rendered: says where (part and line), what field, for whom."""

    def __init__(self, message: str, *, part: str = "body", line: int | None = None, field_name: str = "",
                 recipient: str = ""):
        where = f"{part}, line {line}" if line else part
        detail = f"The template does not render ({where}): {message}"
        if recipient:
            detail += f" (rendering for {recipient})"
        super().__init__(detail, errors=[FieldError(f"{part}:line {line}" if line else part, message)])
        self.message = message
        self.part = part
        self.line = line
        self.field_name = field_name
        self.recipient = recipient


class SandboxRefused(RenderError):
    """The template tried to reach something templates may not touch."""


class _OverBudget(Exception):
    pass


_FORBIDDEN_NAMES = frozenset({
    "request", "config", "self", "session", "g", "url_for", "settings", "cycler", "joiner", "namespace",
    "lipsum", "os", "sys", "builtins", "globals", "locals", "getattr", "setattr", "eval", "exec", "open",
    "__import__", "import", "environment", "context", "loader",
})
_FORBIDDEN_ATTRS = frozenset({
    "format", "format_map", "mro", "func_globals", "func_code", "f_globals", "f_locals", "f_back", "f_builtins",
    "gi_frame", "gi_code", "cr_frame", "cr_code", "ag_frame", "ag_code", "tb_frame", "tb_next", "im_func",
    "environment", "globals", "module", "modules", "import_module", "getattr", "system", "popen",
})
_SAFE_FILTERS = (
    "abs", "capitalize", "count", "d", "default", "first", "float", "int", "join", "last", "length", "list",
    "lower", "map", "max", "min", "reject", "rejectattr", "replace", "reverse", "round", "select",
    "selectattr", "sort", "string", "sum", "title", "trim", "truncate", "unique", "upper", "wordcount",
)
_SAFE_TESTS = ("defined", "undefined", "none", "number", "string", "sequence", "mapping", "eq", "ne", "lt",
               "le", "gt", "ge", "in", "odd", "even", "divisibleby", "true", "false", "boolean", "integer",
               "float", "sameas", "iterable", "lower", "upper")


def _unsafe_name(name: str) -> bool:
    return name.startswith("_") or name in _FORBIDDEN_ATTRS


class _Marker(str):
    """Text produced by cite()/evidence(): the only output allowed to carry markers."""


class _Sandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**", "%"})

    def __init__(self, limits: Limits):
        super().__init__(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False,
                         finalize=self._finalize)
        self.limits = limits
        base_filters, base_tests = dict(self.filters), dict(self.tests)
        self.filters = {name: base_filters[name] for name in _SAFE_FILTERS}
        self.tests = {name: base_tests[name] for name in _SAFE_TESTS}
        self.globals.clear()
        self.globals["range"] = self._range

    @staticmethod
    def _finalize(value: Any) -> Any:
        if isinstance(value, _Marker):
            return value
        text = value if isinstance(value, str) else str(value)  # StrictUndefined raises here
        return _PRIVATE.sub("", text)

    def _range(self, *args: int) -> range:
        if any(not isinstance(a, int) or abs(a) > self.limits.max_number for a in args):
            raise _OverBudget(f"range() is limited to numbers up to {self.limits.max_number}")
        return range(*args)

    def call(self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        for value in (*args, *kwargs.values()):
            if isinstance(value, int) and not isinstance(value, bool) and abs(value) > self.limits.max_number:
                raise _OverBudget(f"a number larger than {self.limits.max_number} was passed to a function")
        return super().call(__context, __obj, *args, **kwargs)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "%" and isinstance(left, str):
            raise SecurityError("string formatting with % is not available in letter templates")
        if operator == "**":
            if isinstance(right, (int, float)) and abs(right) > 64:
                raise _OverBudget("a power larger than 64 is not allowed")
            if isinstance(left, int) and abs(left) > self.limits.max_number:
                raise _OverBudget(f"a power of a number larger than {self.limits.max_number} is not allowed")
        if operator == "*":
            for sequence, times in ((left, right), (right, left)):
                if isinstance(sequence, (str, list, tuple)) and isinstance(times, int) \
                        and len(sequence) * times > self.limits.max_sequence:
                    raise _OverBudget(f"repeating text or a list beyond {self.limits.max_sequence} items")
        return super().call_binop(context, operator, left, right)


def _static_check(tree: nodes.Template) -> None:
    """Refuse, before anything runs, the constructs that only a sandbox escape would use."""
    for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Name, nodes.Filter, nodes.Include,
                               nodes.Import, nodes.FromImport, nodes.Extends)):
        reason = ""
        if isinstance(node, nodes.Getattr) and _unsafe_name(node.attr):
            reason = f"the attribute '{node.attr}' is not available in letter templates"
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) \
                and isinstance(node.arg.value, str) and _unsafe_name(node.arg.value):
            reason = f"the key '{node.arg.value}' is not available in letter templates"
        elif isinstance(node, nodes.Name) and (node.name in _FORBIDDEN_NAMES or node.name.startswith("_")):
            reason = f"the name '{node.name}' is not available in letter templates"
        elif isinstance(node, nodes.Filter) and node.name == "attr":
            reason = "the 'attr' filter is not available in letter templates"
        elif isinstance(node, (nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)):
            reason = "templates cannot include, import or extend other templates"
        if reason:
            raise SandboxRefused(reason, line=node.lineno)


class _Guard:
    """Stops a rendering that runs past its time, whatever it is doing (loops, recursive macros)."""

    def __init__(self, filename: str, seconds: float):
        self.filename = filename
        self.deadline = time.monotonic() + seconds
        self.ticks = 0

    def tick(self) -> None:
        self.ticks += 1
        if self.ticks % 64 == 0 and time.monotonic() > self.deadline:
            raise _OverBudget("the template took too long to render (a loop or recursion that does not end?)")

    def global_trace(self, frame: Any, event: str, arg: Any) -> Any:
        if frame.f_code.co_filename != self.filename:
            return None
        self.tick()
        return self.local_trace

    def local_trace(self, frame: Any, event: str, arg: Any) -> Any:
        self.tick()
        return self.local_trace


class Citations:
    """The footnotes of one document: numbered in order of first use, one number per item."""

    def __init__(self, lookup: EvidenceLookup):
        self._lookup = lookup
        self.numbers: dict[str, int] = {}
        self.snapshots: dict[str, EvidenceSnapshot] = {}
        self.blocks: list[tuple[EvidenceSnapshot, int]] = []

    def _get(self, slug: Any) -> EvidenceSnapshot:
        if not isinstance(slug, str) or not slug.strip():
            raise RenderError("cite() and evidence() take the slug of an evidence item, e.g. cite(\"liu-v-poland\")")
        slug = slug.strip()
        if slug not in self.snapshots:
            try:
                self.snapshots[slug] = self._lookup(slug)
            except LookupError:
                raise RenderError(f"the campaign has no evidence item '{slug}'", field_name=slug) from None
        return self.snapshots[slug]

    def number(self, slug: Any) -> int:
        self._get(slug)
        return self.numbers.setdefault(slug.strip(), len(self.numbers) + 1)

    def cite(self, slug: Any) -> _Marker:
        return _Marker(f"{NOTE_OPEN}{self.number(slug)}{MARK_CLOSE}")

    def evidence(self, slug: Any) -> _Marker:
        snapshot = self._get(slug)
        self.blocks.append((snapshot, self.number(slug)))
        return _Marker(f"\n\n{BLOCK_OPEN}{len(self.blocks) - 1}{MARK_CLOSE}\n\n")

    def ordered(self) -> list[tuple[int, EvidenceSnapshot]]:
        return sorted((number, self.snapshots[slug]) for slug, number in self.numbers.items())


_UNDEFINED_PATTERNS = (re.compile(r"'([^']+)' is undefined"), re.compile(r"has no attribute '([^']+)'"),
                       re.compile(r"no element '?([^']+?)'?$"))


def _missing_field(message: str) -> str:
    for pattern in _UNDEFINED_PATTERNS:
        match = pattern.search(message)
        if match:
            return match.group(1)
    return ""


def _template_line(exc: BaseException, filename: str) -> int | None:
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


_ENVIRONMENTS: dict[Limits, _Sandbox] = {}


def _environment(limits: Limits) -> _Sandbox:
    if limits not in _ENVIRONMENTS:
        _ENVIRONMENTS[limits] = _Sandbox(limits)
    return _ENVIRONMENTS[limits]


def check_source(source: str, *, part: str = "body", limits: Limits = DEFAULT_LIMITS) -> None:
    """Parse and inspect a template without running it (used when a template is saved)."""
    _compile(source, part, limits)


@lru_cache(maxsize=256)  # a personalised send renders one source for every recipient
def _compile(source: str, part: str, limits: Limits):
    if len(source) > limits.max_source_chars:
        raise RenderError(f"the template is longer than {limits.max_source_chars} characters", part=part)
    env = _environment(limits)
    source = _PRIVATE.sub("", source)
    try:
        tree = env.parse(source)
    except TemplateSyntaxError as exc:
        raise RenderError(f"syntax error: {exc.message}", part=part, line=exc.lineno) from None
    try:
        _static_check(tree)
    except SandboxRefused as exc:
        log.warning("letter template refused at %s line %s: %s", part, exc.line, exc.message)
        raise SandboxRefused(exc.message, part=part, line=exc.line) from None
    filename = f"<letter-template:{part}>"
    code = env.compile(source, filename=filename)
    return env.template_class.from_code(env, code, env.make_globals(None), None), filename, _may_run_long(tree)


def _may_run_long(tree: nodes.Template) -> bool:
    """Whether a template has loops, macros or call blocks: the only ways it can run for long.

    Without them each expression runs at most once, on values the limits already bound, so
    the line-by-line time guard (which makes a rendering several times slower) is not needed.
    """
    return any(True for _ in tree.find_all((nodes.For, nodes.Macro, nodes.CallBlock)))


_BRANCHING = (nodes.If, nodes.CondExpr, nodes.And, nodes.Or, nodes.For, nodes.Macro, nodes.CallBlock,
              nodes.FilterBlock)


@lru_cache(maxsize=256)
def fixed_citations(source: str, limits: Limits = DEFAULT_LIMITS) -> bool:
    """Whether a template cites the same items in the same order whatever the recipient.

    True when every cite()/evidence() is a direct call with a literal slug outside any
    condition, loop or macro: then the footnote numbering of one recipient is everyone's.
    """
    tree = _environment(limits).parse(_PRIVATE.sub("", source))

    def fixed(node: nodes.Node, branching: bool) -> bool:
        if isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name) \
                and node.node.name in ("cite", "evidence"):
            if branching or node.kwargs or node.dyn_args or node.dyn_kwargs or len(node.args) != 1 \
                    or not (isinstance(node.args[0], nodes.Const) and isinstance(node.args[0].value, str)):
                return False
            return True
        if isinstance(node, nodes.Name) and node.name in ("cite", "evidence"):
            return False  # passed around or renamed: its calls cannot be followed
        inner = branching or isinstance(node, _BRANCHING)
        return all(fixed(child, inner) for child in node.iter_child_nodes())

    return fixed(tree, False)


@lru_cache(maxsize=256)
def uses_name(source: str, name: str, limits: Limits = DEFAULT_LIMITS) -> bool:
    """Whether a template reads the variable ``name`` (e.g. whether it depends on the recipient)."""
    tree = _environment(limits).parse(_PRIVATE.sub("", source))
    return any(node.name == name for node in tree.find_all(nodes.Name))


def render_text(source: str, *, context: Mapping[str, Any], citations: Citations, part: str = "body",
                recipient: str = "", limits: Limits = DEFAULT_LIMITS) -> str:
    """Render one template part to text with citation markers; every failure is a RenderError."""
    template, filename, may_run_long = _compile(source, part, limits)
    values = {**context, "cite": citations.cite, "evidence": citations.evidence}
    previous = sys.gettrace()
    chunks: list[str] = []
    size = 0
    if may_run_long:
        sys.settrace(_Guard(filename, limits.max_seconds).global_trace)
    try:
        if may_run_long:  # stopped as soon as the output is too long
            for chunk in template.generate(values):
                size += len(chunk)
                if size > limits.max_output_chars:
                    raise _OverBudget(f"the rendered text is longer than {limits.max_output_chars} characters")
                chunks.append(chunk)
        else:  # without loops its output is bounded: checked once it is written
            chunks.append(template.render(values))
            if len(chunks[0]) > limits.max_output_chars:
                raise _OverBudget(f"the rendered text is longer than {limits.max_output_chars} characters")
    except RenderError as exc:
        raise type(exc)(exc.message, part=part, line=exc.line or _template_line(exc, filename),
                        field_name=exc.field_name, recipient=recipient) from None
    except SecurityError as exc:
        line = _template_line(exc, filename)
        log.warning("letter template sandbox refusal at %s line %s: %s", part, line, exc)
        raise SandboxRefused(f"refused by the sandbox: {exc}", part=part, line=line, recipient=recipient) from None
    except UndefinedError as exc:
        field_name = _missing_field(str(exc))
        message = f"the field '{field_name}' is missing" if field_name else f"a field is missing: {exc}"
        raise RenderError(message, part=part, line=_template_line(exc, filename), field_name=field_name,
                          recipient=recipient) from None
    except _OverBudget as exc:
        raise RenderError(str(exc), part=part, line=_template_line(exc, filename), recipient=recipient) from None
    except RecursionError:
        raise RenderError("the template recurses too deeply", part=part, recipient=recipient) from None
    except (TypeError, ValueError, ArithmeticError, LookupError, AttributeError) as exc:
        raise RenderError(f"{type(exc).__name__}: {exc}", part=part, line=_template_line(exc, filename),
                          recipient=recipient) from None
    finally:
        if may_run_long:
            sys.settrace(previous)
    return "".join(chunks)
