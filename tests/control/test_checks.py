"""The supervisor's checks: one table of words, a label and a text for every flag."""

from __future__ import annotations

from idds.control.checks import CHECKS, Check, describe


def test_every_check_has_a_label_and_a_text_from_one_table() -> None:
    assert list(CHECKS) == list(Check)
    for flag in Check:
        assert flag.label == CHECKS[flag].label and flag.label
        assert flag.text == CHECKS[flag].text and flag.text
    assert len({flag.label for flag in Check}) == len(CHECKS)  # no two alike
    assert Check.NONE.label == "" and Check.NONE.text == ""


def test_describe_gives_the_texts_of_a_mask_in_flag_order() -> None:
    mask = Check.RESTART | Check.HARD_LIMIT
    assert describe(int(mask)) == [Check.HARD_LIMIT.text, Check.RESTART.text]
    assert mask.text == "; ".join(describe(int(mask)))
    assert describe(0) == []


def test_the_per_day_increase_has_one_name() -> None:
    assert Check.MAX_INCREASE_PER_DAY.label == "increase per change"
    assert "MAX_INCREASE_DAY" not in Check.__members__
