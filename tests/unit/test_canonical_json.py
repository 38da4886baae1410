"""Canonical JSON (RFC 8785) and the strict reader for untrusted JSON."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fieldkit.crypto.canonical_json import (
    CanonicalJSONError,
    StrictJSONError,
    canonical_dumps,
    format_number,
    strict_loads,
)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        # RFC 8785 appendix B and ECMAScript Number.prototype.toString
        (0.0, "0"),
        (-0.0, "0"),
        (1.0, "1"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (9007199254740991.0, "9007199254740991"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (1e-7, "1e-7"),
        (1e-6, "0.000001"),
        (333333333.3333333, "333333333.3333333"),
        (-1.5e-7, "-1.5e-7"),
        (4.5, "4.5"),
        (0.002, "0.002"),
        (295147905179352830000.0, "295147905179352830000"),
    ],
)
def test_numbers(value: float, text: str) -> None:
    assert format_number(value) == text


def test_rfc8785_key_order_and_escaping() -> None:
    # the sorting example of RFC 8785 section 3.2.3 (UTF-16 code units)
    obj = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    keys = [k for k in json.loads(canonical_dumps(obj))]
    assert keys == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]
    assert canonical_dumps({"b": [1, None, True], "a": 'x\n\u001f"/'}) == (
        b'{"a":"x\\n\\u001f\\"/","b":[1,null,true]}'
    )
    assert canonical_dumps("Ж") == '"Ж"'.encode()


@pytest.mark.parametrize("bad", [math.nan, math.inf, 2**53, "\ud800", {1: 2}, object()])
def test_unencodable_values(bad: object) -> None:
    with pytest.raises(CanonicalJSONError):
        canonical_dumps(bad)


# --- the reference encoder: the oracle for the fast one ---------------------------------------
#
# Written straight from RFC 8785, one character at a time and by recursion, sharing nothing with
# the module's encoder except the number formatting (tested on its own above). Slow, and simple
# enough to check by eye.

_REF_SHORT = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}


def _reference_string(text: str) -> str:
    out = ['"']
    for ch in text:
        code = ord(ch)
        if 0xD800 <= code <= 0xDFFF:
            raise CanonicalJSONError("lone surrogate in string")
        if ch in _REF_SHORT:
            out.append(_REF_SHORT[ch])
        elif code < 0x20:
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _reference(value: object) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        if abs(value) > 2**53 - 1:
            raise CanonicalJSONError("integer outside the exactly representable range")
        return str(value)
    if isinstance(value, float):
        return format_number(value)
    if isinstance(value, str):
        return _reference_string(value)
    if isinstance(value, list | tuple):
        return "[" + ",".join(_reference(v) for v in value) + "]"
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise CanonicalJSONError("object keys must be strings")
        keys = sorted(value, key=lambda k: k.encode("utf-16-be", "surrogatepass"))
        return "{" + ",".join(_reference_string(k) + ":" + _reference(value[k]) for k in keys) + "}"
    raise CanonicalJSONError(f"cannot encode {type(value).__name__}")


def reference_dumps(value: object) -> bytes:
    return _reference(value).encode("utf-8")


any_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12) | st.sampled_from(
    ["", "\u2028", "\x7f", "\x00", "\x1f", "\ud7ff\ue000", "\U0001f600", "\ufb33", "é", '\\"']
)
all_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | any_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=5),
    max_leaves=25,
)


@given(all_values)
def test_fast_encoder_equals_the_reference(value: object) -> None:
    assert canonical_dumps(value) == reference_dumps(value)


@given(st.dictionaries(any_text, st.integers(0, 9) | any_text, max_size=6))
def test_fast_encoder_equals_the_reference_on_flat_objects(value: dict[str, object]) -> None:
    # the common shape of records: the fast path (no floats, keys in the BMP) is taken
    assert canonical_dumps(value) == reference_dumps(value)


@pytest.mark.parametrize(
    "bad",
    [
        ["ok", "\udc00"],
        {"k": {"\ud83d": 1}},
        {"k": [1.5, "\ud800x"]},
        {"\U0001f600": 1, "x": "\udfff"},
        [2**53],
        {"a": [1.0, 2**60]},
    ],
)
def test_both_encoders_refuse_the_same_values(bad: object) -> None:
    with pytest.raises(CanonicalJSONError):
        reference_dumps(bad)
    with pytest.raises(CanonicalJSONError):
        canonical_dumps(bad)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_canonical_output_parses_back_strictly_and_is_stable(value: object) -> None:
    raw = canonical_dumps(value)
    back = strict_loads(raw, max_bytes=1 << 20, max_depth=64)
    assert back == value
    assert canonical_dumps(back) == raw


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b'{"a":1,"a":2}', "duplicate key"),
        (b"[NaN]", "NaN"),
        (b"[-Infinity]", "Infinity"),
        (b"[1e999]", "out of range"),
        (b"[" + b"1" * 40 + b"]", "too long"),
        (b"[9007199254740993]", "too large"),
        (b"[" * 65 + b"]" * 65, "nesting"),
        (b'["\\ud800"]', "surrogate"),
        (b'{"\\udc00":1}', "surrogate"),
        (b'[{"k":["x","\\uDBFF"]}]', "surrogate"),
        (b'{"a":{"\\uDc0A":1}}', "surrogate"),
        (b"\xef\xbb\xbf[]", "byte-order"),
        (b"[1,]", "not valid JSON"),
        (b'["\xc3"]', "UTF-8"),
    ],
)
def test_strict_loads_refuses(raw: bytes, reason: str) -> None:
    with pytest.raises(StrictJSONError) as err:
        strict_loads(raw, max_bytes=1 << 20)
    assert reason in err.value.reason


def test_strict_loads_keeps_escapes_that_are_no_lone_surrogate() -> None:
    # a pair of escapes is one character; an escaped backslash before "ud800" is text
    assert strict_loads(b'["\\ud83d\\ude00", "\\\\ud800"]', max_bytes=100) == [
        "\U0001f600",
        "\\ud800",
    ]


def test_size_is_checked_before_parsing() -> None:
    with pytest.raises(StrictJSONError) as err:
        strict_loads(b"[" * 2_000_000, max_bytes=1000)
    assert "larger" in err.value.reason


def test_deep_nesting_does_not_recurse() -> None:
    raw = b"[" * 200_000 + b"]" * 200_000
    with pytest.raises(StrictJSONError):
        strict_loads(raw, max_bytes=1 << 20)
    # brackets inside strings do not count
    assert strict_loads(b'["' + b"[" * 1000 + b'"]', max_bytes=1 << 20) == ["[" * 1000]


def test_floats_can_be_refused() -> None:
    with pytest.raises(StrictJSONError):
        strict_loads(b"[1.5]", max_bytes=100, allow_floats=False)
    assert strict_loads(b"[1.5]", max_bytes=100) == [1.5]


def _depth(text: str) -> int:
    """The nesting depth, by the plain character scan (the oracle)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


@given(st.recursive(any_text, lambda inner: st.lists(inner, max_size=3), max_leaves=40))
def test_depth_check_agrees_with_the_character_scan(value: object) -> None:
    raw = canonical_dumps(value)
    deepest = _depth(raw.decode("utf-8"))
    for limit in (max(deepest - 1, 0), deepest):
        if deepest > limit:
            with pytest.raises(StrictJSONError):
                strict_loads(raw, max_bytes=1 << 20, max_depth=limit)
        else:
            assert strict_loads(raw, max_bytes=1 << 20, max_depth=limit) == value


def test_depth_check_ignores_brackets_in_strings_with_escapes() -> None:
    tricky = '["\\\\", "\\"[[[[", ' + "[" * 3 + "]" * 3 + "]"
    assert strict_loads(tricky.encode(), max_bytes=1000, max_depth=4)[0] == "\\"
    with pytest.raises(StrictJSONError):
        strict_loads(tricky.encode(), max_bytes=1000, max_depth=3)
