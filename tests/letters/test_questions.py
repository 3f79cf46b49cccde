from __future__ import annotations

from datetime import date

import pytest

from letters.questions import (DEPARTMENTS, Chamber, TablingRequest, addressed_minister, check_question,
                               department_of, named_day_warnings)

FCDO = ("To ask the Secretary of State for Foreign, Commonwealth and Development Affairs, what assessment he has "
        "made of the role of Liu Jianchao in international fugitive recovery operations.")


def rules(chamber, text, **kwargs):
    return [problem.rule for problem in check_question(chamber, text, **kwargs)]


def test_a_well_formed_commons_written_question_passes():
    assert rules(Chamber.commons_written, FCDO) == []
    assert addressed_minister(FCDO) == "Secretary of State for Foreign, Commonwealth and Development Affairs"
    assert department_of(addressed_minister(FCDO)) == "Foreign, Commonwealth and Development Office"


def test_commons_question_to_a_minister_by_title_passes():
    assert rules(Chamber.commons_written, "To ask the Chancellor of the Exchequer, whether he plans to review "
                                          "asset freezes under the Global Human Rights sanctions regime.") == []


def test_commons_question_must_begin_to_ask():
    assert rules(Chamber.commons_written, "What has the Foreign Secretary done about Liu Jianchao?") == ["commons.form"]


def test_commons_question_must_name_a_real_department():
    problems = check_question(Chamber.commons_written, "To ask the Secretary of State for Silly Walks, "
                                                       "what steps he is taking.")
    assert [p.rule for p in problems] == ["commons.department"]
    assert "Silly Walks" in problems[0].message


def test_commons_question_asks_one_thing():
    assert rules(Chamber.commons_written, FCDO[:-1] + "; and what steps he will take to bar his entry.") \
        == ["commons.one_question"]
    assert rules(Chamber.commons_written, FCDO + " He should act.") == ["commons.one_question"]
    assert rules(Chamber.commons_written, FCDO.replace(".", "?") + " Why?") == ["commons.one_question"]


def test_commons_question_has_a_length_limit():
    long = FCDO[:-1] + " " + " ".join(["in the United Kingdom"] * 40) + "."
    assert rules(Chamber.commons_written, long) == ["commons.length"]
    assert rules(Chamber.commons_oral, FCDO[:-1] + " " + " ".join(["abroad"] * 50) + ".") == ["commons.length"]


def test_lords_question_is_addressed_to_his_majestys_government():
    good = ("To ask His Majesty's Government what representations they have made about the visit of "
            "Liu Jianchao.")
    assert rules(Chamber.lords_written, good) == []
    assert rules(Chamber.lords_written, good.replace("'", "\u2019")) == []
    problems = check_question(Chamber.lords_written, FCDO)
    assert [p.rule for p in problems] == ["lords.addressee"]
    assert "His Majesty's Government" in problems[0].message


def test_european_parliament_question_has_an_addressee_and_a_word_limit():
    text = "Does the Commission intend to propose the suspension of extradition treaties with China?"
    assert rules(Chamber.ep_written, text, addressee="Commission") == []
    assert rules(Chamber.ep_written, text, addressee="VP/HR") == []
    assert rules(Chamber.ep_written, text, addressee="Council") == []
    assert rules(Chamber.ep_written, text, addressee="the Pope") == ["ep.addressee"]
    assert rules(Chamber.ep_written, " ".join(["word"] * 201), addressee="Council") == ["ep.length"]


def test_more_than_five_named_day_questions_a_day_is_warned():
    day = date(2026, 11, 24)
    batch = [TablingRequest(7, day, True) for _ in range(6)] + [TablingRequest(8, day, True) for _ in range(5)]
    batch += [TablingRequest(8, day, False) for _ in range(3)]
    warnings = named_day_warnings(batch)
    assert [(member, problem.rule, problem.severity) for member, _, problem in warnings] == [
        (7, "commons.named_day_limit", "warning")]


@pytest.mark.parametrize("department,title", DEPARTMENTS)
def test_every_listed_minister_is_recognised(department, title):
    assert rules(Chamber.commons_written, f"To ask the {title}, what discussions he has had on this matter.") == []
