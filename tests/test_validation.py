"""The argument rules shared by the public functions and the models' option schemas."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import grnlink as gl
from grnlink._validation import (
    BOOLEAN,
    FRACTION,
    KEY,
    POSITIVE_INT,
    POSITIVE_INTS,
    POSITIVE_NUMBER,
    SEED,
    check_tfs,
    int_at_least,
    number_in,
    one_of,
    optional,
    subset_of,
)

RULES = {
    "POSITIVE_INT": POSITIVE_INT,
    "SEED": SEED,
    "POSITIVE_NUMBER": POSITIVE_NUMBER,
    "FRACTION": FRACTION,
    "BOOLEAN": BOOLEAN,
    "POSITIVE_INTS": POSITIVE_INTS,
    "KEY": KEY,
    "int_at_least(5)": int_at_least(5),
    "number_in(0, 1]": number_in(0, 1, low_open=True, high_open=False),
    "one_of": one_of("a", "b", None),
    "optional": optional(POSITIVE_INT),
    "subset_of": subset_of("tf", "gene"),
}

ANY_VALUE = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=5)
    | st.binary(max_size=3)
    | st.sampled_from([np.int64(3), np.float32(0.5), np.bool_(True), np.nan, np.array([1, 2])]),
    lambda inner: st.lists(inner, max_size=3) | st.tuples(inner, inner) | st.dictionaries(st.text(max_size=2), inner),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(RULES)), ANY_VALUE)
def test_a_rule_accepts_or_raises_input_error_naming_the_argument_and_value(rule_name, value):
    rule = RULES[rule_name]
    try:
        rule.check("arg", value)
    except gl.InputError as err:
        assert str(err).startswith(f"arg={value!r} is not valid") and rule.allowed in str(err)
    else:
        assert rule.test(value)


@settings(max_examples=200, deadline=None)
@given(st.integers(-(10**6), 10**6))
def test_integer_rules_follow_their_bounds(value):
    assert POSITIVE_INT.test(value) == (value >= 1)
    assert SEED.test(value) == (value >= 0)
    assert int_at_least(5).test(value) == (value >= 5)
    assert not POSITIVE_INT.test(float(value))  # 3.0 is not an integer option


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True))
def test_number_rules_refuse_nan_and_infinity(value):
    finite = math.isfinite(value)
    assert POSITIVE_NUMBER.test(value) == (finite and value > 0)
    assert FRACTION.test(value) == (finite and 0 <= value < 1)


@pytest.mark.parametrize("value", [True, False, np.bool_(True)])
def test_booleans_are_not_numbers(value):
    assert not POSITIVE_INT.test(value) and not POSITIVE_NUMBER.test(value) and BOOLEAN.test(value)


@pytest.mark.parametrize(
    ("value", "ok"), [("grn", True), ("", False), ("a/b", False), (3, False), (None, False), (["grn"], False)]
)
def test_keys_are_non_empty_strings_without_slash(value, ok):
    assert KEY.test(value) == ok


def test_a_string_of_tfs_is_one_tf():
    assert check_tfs("IRF1") == ["IRF1"]
    assert check_tfs(np.array(["IRF1", "STAT1"])) == ["IRF1", "STAT1"]
    assert check_tfs(None) is None


@pytest.mark.parametrize(("tfs", "match"), [([], "empty"), (5, "TF symbol"), ([1, 2], "strings"), (b"IRF1", "TF")])
def test_bad_tfs_raise_input_error(tfs, match):
    with pytest.raises(gl.InputError, match=match):
        check_tfs(tfs)
