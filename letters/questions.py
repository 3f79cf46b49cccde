"""Parliamentary questions: the form each chamber requires, checked before a draft goes out.

Pure functions: ``check_question`` returns the rules a draft breaks (an empty list when
it is fine); ``named_day_warnings`` looks at a batch for one member. Each problem names
its rule, so staff see which rule a draft breaks and why.

The department list is kept by hand (machinery-of-government changes are rare and
announced); a question to a department not on it is refused so that a typo never goes
to a member as a suggestion to table.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class Chamber(StrEnum):
    commons_written = "commons_written"
    commons_oral = "commons_oral"
    lords_written = "lords_written"
    lords_oral = "lords_oral"
    ep_written = "ep_written"

    @property
    def label(self) -> str:
        return {
            "commons_written": "House of Commons, written question",
            "commons_oral": "House of Commons, oral question",
            "lords_written": "House of Lords, written question",
            "lords_oral": "House of Lords, oral question",
            "ep_written": "European Parliament, question for written answer",
        }[self.value]


class EPAddressee(StrEnum):
    commission = "Commission"
    council = "Council"
    vp_hr = "Vice-President / High Representative"


# Current UK ministerial departments: (department, how a Commons question addresses its minister).
DEPARTMENTS: tuple[tuple[str, str], ...] = (
    ("Prime Minister's Office", "Prime Minister"),
    ("Cabinet Office", "Minister for the Cabinet Office"),
    ("Cabinet Office", "Chancellor of the Duchy of Lancaster"),
    ("HM Treasury", "Chancellor of the Exchequer"),
    ("Foreign, Commonwealth and Development Office",
     "Secretary of State for Foreign, Commonwealth and Development Affairs"),
    ("Home Office", "Secretary of State for the Home Department"),
    ("Ministry of Defence", "Secretary of State for Defence"),
    ("Ministry of Justice", "Secretary of State for Justice"),
    ("Department for Business and Trade", "Secretary of State for Business and Trade"),
    ("Department for Culture, Media and Sport", "Secretary of State for Culture, Media and Sport"),
    ("Department for Education", "Secretary of State for Education"),
    ("Department for Energy Security and Net Zero", "Secretary of State for Energy Security and Net Zero"),
    ("Department for Environment, Food and Rural Affairs",
     "Secretary of State for Environment, Food and Rural Affairs"),
    ("Department for Science, Innovation and Technology", "Secretary of State for Science, Innovation and Technology"),
    ("Department for Transport", "Secretary of State for Transport"),
    ("Department for Work and Pensions", "Secretary of State for Work and Pensions"),
    ("Department of Health and Social Care", "Secretary of State for Health and Social Care"),
    ("Ministry of Housing, Communities and Local Government",
     "Secretary of State for Housing, Communities and Local Government"),
    ("Northern Ireland Office", "Secretary of State for Northern Ireland"),
    ("Scotland Office", "Secretary of State for Scotland"),
    ("Wales Office", "Secretary of State for Wales"),
    ("Attorney General's Office", "Attorney General"),
    ("Attorney General's Office", "Solicitor General"),
    ("Office of the Leader of the House of Commons", "Leader of the House"),
    ("Government Equalities Office", "Minister for Women and Equalities"),
)
MINISTER_TITLES = tuple(sorted({title for _, title in DEPARTMENTS}, key=len, reverse=True))

# Word limits: the EP's is in its Rules of Procedure (Annex III: 200 words); the
# Houses set none in standing orders, so these are the house style Cosign enforces to
# keep suggestions short enough that the Table Office does not cut them.
WORD_LIMITS = {
    Chamber.commons_written: 150,
    Chamber.commons_oral: 60,
    Chamber.lords_written: 100,
    Chamber.lords_oral: 60,
    Chamber.ep_written: 200,
}
NAMED_DAY_LIMIT = 5  # a Commons member may table at most five named-day questions a day

_HMG = re.compile(r"^To ask (His|Her) Majesty['\u2019]s Government\b")
_SECOND_QUESTION = re.compile(r"(;|,)?\s+and\s+(what|whether|how|when|which|why|if\s+(he|she|they|the))\b",
                              re.IGNORECASE)


@dataclass(frozen=True)
class Problem:
    rule: str
    message: str
    severity: str = "error"  # or "warning": shown, but the draft may still go out


def words(text: str) -> int:
    return len(text.split())


def _one_thing(chamber: Chamber, question: str) -> list[Problem]:
    problems = []
    rule = f"{chamber.value.split('_')[0]}.one_question"
    if question.count("?") > 1:
        problems.append(Problem(rule, "A question asks one thing: this draft has more than one question mark."))
    elif _SECOND_QUESTION.search(question):
        match = _SECOND_QUESTION.search(question)
        problems.append(Problem(rule, f"A question asks one thing: '…{match.group(0).strip()}…' starts a second "
                                      "question; split it into two drafts."))
    elif len(re.findall(r"[.!?](\s+)[A-Z]", question.strip())) >= 1:
        problems.append(Problem(rule, "A question is one sentence: this draft has more than one."))
    return problems


def _length(chamber: Chamber, text: str) -> list[Problem]:
    limit = WORD_LIMITS[chamber]
    count = words(text)
    if count > limit:
        return [Problem(f"{chamber.value.split('_')[0]}.length",
                        f"{count} words; {chamber.label} drafts are limited to {limit} words.")]
    return []


def addressed_minister(text: str) -> str | None:
    """The minister a Commons question is addressed to, if it names a known one."""
    for title in MINISTER_TITLES:
        if text.startswith(f"To ask the {title}"):
            return title
    return None


def department_of(minister_title: str) -> str:
    return next((department for department, title in DEPARTMENTS if title == minister_title), "")


def _commons(chamber: Chamber, text: str) -> list[Problem]:
    if not text.startswith("To ask the "):
        return [Problem("commons.form", "A Commons question begins 'To ask the Secretary of State for …' (or the "
                                        "minister's title, e.g. 'To ask the Chancellor of the Exchequer').")]
    title = addressed_minister(text)
    if title is None:
        named = re.match(r"To ask the ([^,]+(?:,[^,]+?and [^,]+)?)", text)
        shown = named.group(1).strip() if named else text[11:60]
        if text.startswith("To ask the Secretary of State for "):
            return [Problem("commons.department", f"'{shown}' is not a current department. Use one of: "
                            + "; ".join(t for t in MINISTER_TITLES if t.startswith("Secretary of State")) + ".")]
        return [Problem("commons.department", f"'{shown}' is not a minister who answers questions in the "
                                              "Commons; address a Secretary of State or a minister by title.")]
    rest = text[len(f"To ask the {title}"):]
    problems = []
    if not rest.startswith(","):
        problems.append(Problem("commons.form", f"Put a comma after '{title}', then the question "
                                                "('…, what assessment he has made of …')."))
    question = rest.lstrip(", ")
    if not question:
        problems.append(Problem("commons.form", "The question itself is missing after the addressee."))
    problems += _one_thing(chamber, question)
    return problems


def _lords(chamber: Chamber, text: str) -> list[Problem]:
    match = _HMG.match(text)
    if not match:
        hint = " (not a Secretary of State or minister)" if text.startswith("To ask the ") else ""
        return [Problem("lords.addressee", "A Lords question is addressed to the Government: it begins "
                                           f"\"To ask His Majesty's Government …\"{hint}.")]
    return _one_thing(chamber, text[match.end():].lstrip(", "))


def check_question(chamber: Chamber | str, text: str, *, addressee: str = "") -> list[Problem]:
    """Every rule the draft breaks, in the order a reader would fix them; [] when it is in form."""
    chamber = Chamber(chamber)
    text = " ".join(text.split())
    if not text:
        return [Problem("question.empty", "The question has no text.")]
    problems: list[Problem] = []
    if chamber in (Chamber.commons_written, Chamber.commons_oral):
        problems += _commons(chamber, text)
    elif chamber in (Chamber.lords_written, Chamber.lords_oral):
        problems += _lords(chamber, text)
    else:
        valid = {a.value.lower(): a for a in EPAddressee} | {"vp/hr": EPAddressee.vp_hr, "hr/vp": EPAddressee.vp_hr}
        if addressee.strip().lower() not in valid:
            problems.append(Problem("ep.addressee", "A European Parliament question is addressed to the Commission, "
                                                    "the Council or the Vice-President / High Representative."))
        if text.count("?") > 3:
            problems.append(Problem("ep.sub_questions", "Keep to three sub-questions at most.", "warning"))
    problems += _length(chamber, text)
    return problems


@dataclass(frozen=True)
class TablingRequest:
    """One question a member is asked to table, as the named-day check sees it."""

    member_id: int
    tabling_date: date
    named_day: bool


def named_day_warnings(requests: Iterable[TablingRequest]) -> list[tuple[int, date, Problem]]:
    """A member asked to table more than five named-day questions on one day is warned."""
    counts = Counter((r.member_id, r.tabling_date) for r in requests if r.named_day)
    return [(member, day, Problem("commons.named_day_limit",
                                  f"{count} named-day questions on {day:%d %B %Y}; a member may table at most "
                                  f"{NAMED_DAY_LIMIT} a day.", "warning"))
            for (member, day), count in sorted(counts.items()) if count > NAMED_DAY_LIMIT]
