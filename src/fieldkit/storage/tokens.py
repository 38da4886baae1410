"""Search on a hub's PostgreSQL: keyed word tokens in a GIN-indexed array, no readable text.

The server cannot run FTS5 over text it never sees. Each record's folded title and text are split
into words as the SQLite index splits them (letters and digits; case and Latin accents ignored),
and each word becomes a handful of 64-bit tokens, HMAC-SHA256 under the hub's token key:

- ``w:<word>``, the whole word, and ``p:<prefix>`` for each of its first 1..MAX_PREFIX letters
  (shorter than the word), so a query word matches words that start with it, as FTS5 prefix
  queries do;
- ``t:`` variants of the same for the words of the title, which rank a record higher.

A query word of up to MAX_PREFIX letters is one array test (``tokens && ARRAY[p, w]``); a longer
one narrows on its first MAX_PREFIX letters and is then confirmed here against the decrypted
text. The texts themselves are kept sealed beside the tokens, for snippets and that check.
What the tokens reveal and what they do not is written down in docs/design-decisions.md.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Integer,
    LargeBinary,
    Select,
    column,
    delete,
    func,
    insert,
    literal,
    table,
)
from sqlalchemy.dialects.postgresql import ARRAY, array
from sqlalchemy.orm import Session

from fieldkit.storage.sealing import HubKeys

TOKENS_TABLE = "record_tokens"
MAX_PREFIX = 7
_WORD = re.compile(r"(?:[^\W_]|\u02bc)+")
_COMBINING = re.compile("[\u0300-\u036f]")

TOKENS = table(
    TOKENS_TABLE,
    column("num", Integer),
    column("tokens", ARRAY(BigInteger)),
    column("title", LargeBinary),
    column("body", LargeBinary),
)


def _strip_latin_accents(word: str) -> str:
    """café -> cafe, as FTS5's ``remove_diacritics 2``; Cyrillic й and ї keep their marks."""
    out: list[str] = []
    for char in unicodedata.normalize("NFD", word):
        if _COMBINING.match(char) and out and out[-1].isascii():
            continue
        out.append(char)
    return unicodedata.normalize("NFC", "".join(out))


def words(folded: str) -> list[str]:
    """The words of a folded text, lower case, Latin accents removed (the index's unit)."""
    return [_strip_latin_accents(w.lower()) for w in _WORD.findall(folded)]


def _word_tokens(keys: HubKeys, word: str, kind: str) -> Iterable[int]:
    yield keys.token(f"{kind}w:{word}")
    for length in range(1, min(len(word) - 1, MAX_PREFIX) + 1):
        yield keys.token(f"{kind}p:{word[:length]}")


def record_tokens(keys: HubKeys, folded_title: str, folded_body: str) -> list[int]:
    title_words = set(words(folded_title))
    found: set[int] = set()
    for word in title_words | set(words(folded_body)):
        found.update(_word_tokens(keys, word, ""))
    for word in title_words:
        found.update(_word_tokens(keys, word, "t"))
    return sorted(found)


def _term_tokens(keys: HubKeys, term: str, kind: str = "") -> list[int]:
    if len(term) <= MAX_PREFIX:
        return [keys.token(f"{kind}p:{term}"), keys.token(f"{kind}w:{term}")]
    return [keys.token(f"{kind}p:{term[:MAX_PREFIX]}")]


def query_terms(query_words: Sequence[str]) -> list[str]:
    return [w for raw in query_words for w in words(raw)]


def _where(seal: bytes, num: int, part: str) -> bytes:
    return f"{TOKENS_TABLE}/{num}/{part}".encode() + seal


def index_rows(keys: HubKeys, rows: Sequence[tuple[int, str, str]]) -> list[dict[str, Any]]:
    """Rows of ``record_tokens`` for (num, folded title, folded body)."""
    return [
        {
            "num": num,
            "tokens": record_tokens(keys, title, body),
            "title": keys.seal(title.encode(), _where(b"", num, "title")),
            "body": keys.seal(body.encode(), _where(b"", num, "body")),
        }
        for num, title, body in rows
    ]


def put_many(session: Session, keys: HubKeys, rows: Sequence[tuple[int, str, str]]) -> None:
    if rows:
        session.execute(insert(TOKENS), index_rows(keys, rows))


def remove_many(session: Session, nums: Sequence[int]) -> None:
    for start in range(0, len(nums), 1000):
        chunk = list(nums[start : start + 1000])
        session.execute(delete(TOKENS).where(TOKENS.c.num.in_(chunk)))


def matching(keys: HubKeys, stmt: Select[Any], terms: Sequence[str]) -> Select[Any]:
    """``stmt`` over the token table, restricted to rows that have every term."""
    stmt = stmt.select_from(TOKENS)
    for term in terms:
        stmt = stmt.where(
            TOKENS.c.tokens.overlap(array(_term_tokens(keys, term), type_=BigInteger))
        )
    return stmt


def in_title(keys: HubKeys, term: str) -> Any:
    """Whether the title has ``term`` (its title tokens; the GIN index answers it)."""
    return TOKENS.c.tokens.overlap(array(_term_tokens(keys, term, "t"), type_=BigInteger))


def title_score(keys: HubKeys, terms: Sequence[str]) -> Any:
    """How many query words the title has (negated: lower sorts first, as bm25 scores do)."""
    score: Any = literal(0)
    for term in terms:
        score = score - func.cast(in_title(keys, term), Integer)
    return score


def long_terms(terms: Sequence[str]) -> list[str]:
    """Terms the tokens only narrow down (longer than MAX_PREFIX): confirmed on the text."""
    return [t for t in terms if len(t) > MAX_PREFIX]


def confirms(long: Sequence[str], title: str, body: str) -> bool:
    found = set(words(title)) | set(words(body))
    return all(any(word.startswith(term) for word in found) for term in long)


def open_texts(keys: HubKeys, num: int, title: bytes, body: bytes) -> tuple[str, str]:
    return (
        keys.open(bytes(title), _where(b"", num, "title")).decode(),
        keys.open(bytes(body), _where(b"", num, "body")).decode(),
    )
