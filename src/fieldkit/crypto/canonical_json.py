"""Canonical JSON (RFC 8785, JCS) and a strict, bounded JSON reader for untrusted input.

``canonical_dumps`` gives the one byte sequence that is hashed and signed: UTF-8, no whitespace,
object keys sorted by their UTF-16 code units, numbers in ECMAScript form. Normalising strings (NFC)
is the caller's job; this module never changes the text it is given.

``strict_loads`` reads JSON from an attacker: the size is checked before anything is parsed, the
nesting depth is checked by a flat scan before ``json.loads`` can recurse, duplicate keys, NaN and
Infinity, over-long numbers and lone surrogates are refused.
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from typing import Any

MAX_SAFE_INTEGER = 2**53 - 1
DEFAULT_MAX_NUMBER_CHARS = 32


class CanonicalJSONError(ValueError):
    """The value cannot be written as canonical JSON."""


class StrictJSONError(ValueError):
    """Untrusted JSON was refused; ``reason`` is short, safe to show and carries no content."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- writing -------------------------------------------------------------------------------------
#
# Strings are escaped by ``json.dumps(ensure_ascii=False)``, which escapes exactly what RFC 8785
# escapes (quote, backslash, control characters, with the short forms \b \t \n \f \r and
# lower-case \u00xx) and passes everything else through, in C. Lone surrogates pass through it too;
# they are caught once, when the finished text is encoded to UTF-8. For object keys inside the
# Basic Multilingual Plane, code point order equals UTF-16 code unit order, so a plain sort is
# right; only an object with a key beyond it is sorted by UTF-16 code units. When the value holds
# no float and no such key (records nearly always), one ``json.dumps(sort_keys=True)`` writes it.

_MAX_DEPTH = 256
_dumps_string = json.JSONEncoder(ensure_ascii=False).encode


def _utf16_key(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def _non_bmp(key: str) -> bool:
    return not key.isascii() and any(ord(c) > 0xFFFF for c in key)


def format_number(value: float) -> str:
    """ECMAScript Number.prototype.toString for a finite double (RFC 8785 section 3.2.2.3)."""
    if not math.isfinite(value):
        raise CanonicalJSONError("NaN and Infinity are not allowed")
    if value == 0:
        return "0"
    if value < 0:
        return "-" + format_number(-value)
    # repr gives the shortest digits that round-trip; Decimal takes them apart exactly.
    _sign, digit_tuple, exp = Decimal(repr(value)).normalize().as_tuple()
    assert isinstance(exp, int)
    digits = "".join(str(d) for d in digit_tuple)
    k = len(digits)
    n = k + exp  # value = 0.<digits> * 10**n
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + digits
    e = n - 1
    sign = "+" if e >= 0 else "-"
    if k == 1:
        return f"{digits}e{sign}{abs(e)}"
    return f"{digits[0]}.{digits[1:]}e{sign}{abs(e)}"


def _simple(value: Any) -> bool:
    """True when ``json.dumps(sort_keys=True)`` gives the canonical form: no floats and no object
    key outside the Basic Multilingual Plane. Raises for what canonical JSON cannot hold (lone
    surrogates excepted: they are found when the text is encoded)."""
    stack = [value]
    pop, extend = stack.pop, stack.extend
    while stack:
        item = pop()
        kind = type(item)
        if kind is str or item is None or kind is bool:
            continue
        if kind is dict:
            for key in item:
                if type(key) is not str:
                    if not isinstance(key, str):
                        raise CanonicalJSONError("object keys must be strings")
                    return False
                if not key.isascii() and _non_bmp(key):
                    return False
            extend(item.values())
        elif kind is int:
            if not -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                raise CanonicalJSONError("integer outside the exactly representable range")
        elif kind is list or kind is tuple:
            extend(item)
        elif kind is float:
            return False
        elif isinstance(item, str | int | float | dict | list | tuple):
            return False  # a subclass: the general encoder decides
        else:
            raise CanonicalJSONError(f"cannot encode {type(item).__name__}")
    return True


def _encode(value: Any, depth: int) -> str:
    """The general encoder (floats, keys beyond the BMP, subclasses); recursion bounded."""
    if depth > _MAX_DEPTH:
        raise CanonicalJSONError("nesting too deep")
    if isinstance(value, str):
        return _dumps_string(str(value))
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise CanonicalJSONError("integer outside the exactly representable range")
        return str(int(value))
    if isinstance(value, float):
        return format_number(float(value))
    if isinstance(value, dict):
        keys = list(value)
        for key in keys:
            if not isinstance(key, str):
                raise CanonicalJSONError("object keys must be strings")
        if any(_non_bmp(key) for key in keys):
            keys.sort(key=_utf16_key)
        else:
            keys.sort()
        inner = depth + 1
        return (
            "{"
            + ",".join(_dumps_string(str(k)) + ":" + _encode(value[k], inner) for k in keys)
            + "}"
        )
    if isinstance(value, list | tuple):
        inner = depth + 1
        return "[" + ",".join(_encode(item, inner) for item in value) + "]"
    raise CanonicalJSONError(f"cannot encode {type(value).__name__}")


def canonical_dumps(obj: Any) -> bytes:
    """The RFC 8785 canonical form of ``obj`` as UTF-8 bytes."""
    try:
        if _simple(obj):
            text = json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        else:
            text = _encode(obj, 0)
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise CanonicalJSONError("lone surrogate in string") from None
    except RecursionError:
        raise CanonicalJSONError("nesting too deep") from None


# --- reading -------------------------------------------------------------------------------------


_STRING_LITERAL = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
# Text decoded as strict UTF-8 holds no surrogate code point, so one in the parsed value can only
# come from a \uD800-\uDFFF escape. Where no such escape can be (this matches every one, and
# some harmless text such as an escaped backslash before "ud800"), the value is not walked.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")
_BRACKETS = re.compile(r"[\[\]{}]")


def _check_depth(text: str, max_depth: int) -> None:
    """Refuse nesting deeper than ``max_depth`` before ``json.loads`` can recurse.

    Fast cases first: too few opening brackets to nest that deep at all (a record document), or,
    with string literals removed (in C, by a regular expression), the brackets counted one by one.
    A text with an unterminated string falls back to the character scan."""
    if text.count("[") + text.count("{") <= max_depth:
        return
    blanked = _STRING_LITERAL.sub("", text)
    if '"' in blanked:
        _check_depth_slow(text, max_depth)  # an unterminated string: json.loads refuses it
        return
    depth = 0
    for bracket in _BRACKETS.findall(blanked):
        if bracket in "[{":
            depth += 1
            if depth > max_depth:
                raise StrictJSONError(f"nesting deeper than {max_depth} levels")
        else:
            depth -= 1


def _check_depth_slow(text: str, max_depth: int) -> None:
    depth = 0
    in_string = False
    escaped = False
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
            if depth > max_depth:
                raise StrictJSONError(f"nesting deeper than {max_depth} levels")
        elif ch in "]}":
            depth -= 1


def _check_surrogates(value: Any) -> None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            _check_string(item)
        elif isinstance(item, dict):
            for key, sub in item.items():
                _check_string(key)
                stack.append(sub)
        elif isinstance(item, list):
            stack.extend(item)


def _check_string(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise StrictJSONError("lone surrogate in a string") from None


def strict_loads(
    data: bytes,
    *,
    max_bytes: int,
    max_depth: int = 64,
    max_number_chars: int = DEFAULT_MAX_NUMBER_CHARS,
    allow_floats: bool = True,
) -> Any:
    """Parse untrusted JSON, refusing anything ambiguous; raises :class:`StrictJSONError`."""
    if len(data) > max_bytes:
        raise StrictJSONError(f"larger than {max_bytes} bytes")
    if data.startswith(b"\xef\xbb\xbf"):
        raise StrictJSONError("starts with a byte-order mark")
    try:
        text = data.decode("utf-8", errors="strict")
    except UnicodeDecodeError:
        raise StrictJSONError("not valid UTF-8") from None
    _check_depth(text, max_depth)

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in items:
            if key in result:
                raise StrictJSONError("duplicate key in an object")
            result[key] = value
        return result

    def constant(name: str) -> Any:
        raise StrictJSONError(f"{name} is not allowed")

    def parse_int(literal: str) -> int:
        if len(literal) > max_number_chars:
            raise StrictJSONError("number too long")
        value = int(literal)
        if abs(value) > MAX_SAFE_INTEGER:
            raise StrictJSONError("integer too large")
        return value

    def parse_float(literal: str) -> float:
        if not allow_floats:
            raise StrictJSONError("fractional numbers are not allowed")
        if len(literal) > max_number_chars:
            raise StrictJSONError("number too long")
        value = float(literal)
        if not math.isfinite(value):
            raise StrictJSONError("number out of range")
        return value

    try:
        value = json.loads(
            text,
            object_pairs_hook=pairs,
            parse_constant=constant,
            parse_int=parse_int,
            parse_float=parse_float,
        )
    except StrictJSONError:
        raise
    except RecursionError:
        raise StrictJSONError("nesting too deep") from None
    except ValueError as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "invalid JSON"
        raise StrictJSONError(f"not valid JSON ({reason})") from None
    if _SURROGATE_ESCAPE.search(text) is not None:
        _check_surrogates(value)
    return value
