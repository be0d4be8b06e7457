"""The patient file reader refuses anything malformed with one typed line: whatever value
replaces a field, or whatever field is dropped or added, the result is a record or a
`CandidateFileError` naming the file, never another exception."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from idds.selection import CandidateFileError, CandidateRecord, parse_candidate
from tests.selection.scenario import base_patient

BASE = base_patient()
FIELDS = [(section, key) for section, table in BASE.items() for key in table]

values = st.one_of(
    st.none(), st.booleans(), st.integers(-10**20, 10**20),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
    st.sampled_from(["240 mg/day", "240 mg", "3 month", "90 day", "1 year", "-5 day",
                     "0 day", "1e3 mg/day", "nan", "current", "none", "mixed", "1\u06605",
                     "0.0000000001 mg/day", "9" * 30 + " mg/day"]),
    st.lists(st.text(max_size=5), max_size=3), st.dictionaries(st.text(max_size=5),
                                                               st.integers(), max_size=2))


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(FIELDS), values, st.booleans())
def test_any_value_in_any_field_is_a_record_or_a_named_refusal(
        field: tuple[str, str], value: Any, drop: bool) -> None:
    data = copy.deepcopy(BASE)
    section, key = field
    if drop:
        del data[section][key]
    else:
        data[section][key] = value
    try:
        record = parse_candidate(data, "fuzzed.toml")
    except CandidateFileError as exc:
        message = str(exc)
        assert message.startswith("fuzzed.toml: ") and "\n" not in message
        assert f"[{section}]" in message, message
        assert len(message) < 600
    else:
        assert isinstance(record, CandidateRecord)
        assert not drop  # every field of the base patient is needed


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([*BASE, "extra"]), st.text(min_size=1, max_size=12), values)
def test_an_unknown_key_is_always_refused(section: str, key: str, value: Any) -> None:
    data = copy.deepcopy(BASE)
    if section == "extra":
        data[key if key not in BASE else key + "_x"] = {"x": value}
        expected = "unknown section"
    else:
        if key in data[section] or key in {"karnofsky", "dermatomes", "description",
                                           "persistent", "anticoagulant_stopped",
                                           "vomiting", "pruritus", "urinary_retention",
                                           "myoclonus", "hallucinations", "fatigue",
                                           "screening_result"}:
            return
        data[section][key] = value
        expected = "unknown key"
    try:
        parse_candidate(data, "fuzzed.toml")
    except CandidateFileError as exc:
        assert expected in str(exc)
    else:
        raise AssertionError("an unknown key was accepted")
