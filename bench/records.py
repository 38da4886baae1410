"""Benchmark: 100,000 records in an encrypted profile, against the same data in plain SQLite.

    .venv/bin/python bench/records.py [--records N] [--queries Q] [--keep DIR]

What it does, in one run:

1. creates a profile and enters N realistic records (facilities, persons, cases, visits,
   interviews, recommendations; narratives in Ukrainian, Russian and English) through the records
   repository, in batches of a few thousand per transaction;
2. copies exactly the same schema and rows into a plain (unencrypted) SQLite file;
3. times, on both, with the same code path (the repository and the search index over a
   SQLAlchemy session): opening after the key derivation, the first page of the list (50 rows by
   last change), counts, filtered pages, and full-text searches (p50/p95 over Ukrainian, Russian and
   Latin terms);
4. prints one table with both columns and their ratio, so the price of encryption shows directly.

The key derivation (Argon2id, about half a second by design) is measured on its own and left out of
"unlock": the profile here uses the insecure test parameters so that the numbers show the database.
The plain copy holds only the generated text and is deleted at the end (unless --keep).
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlcipher3
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from fieldkit.crypto.kdf import KdfParams, derive_key
from fieldkit.domain.errors import RecordValidationError
from fieldkit.domain.profile import Role
from fieldkit.domain.validation import validate_record
from fieldkit.storage.engine import POOL_SIZE, KeyedPool, connect_raw
from fieldkit.storage.records import RecordStore
from fieldkit.storage.search import RecordFilters, SearchIndex
from fieldkit.storage.vault import SQLCIPHER_PURPOSE, Vault, database_path

PASSPHRASE = "bench: тихий вечір над Дніпром 7"
BATCH = 2000

# --- realistic text ----------------------------------------------------------------------------

UK = [
    "затриманий",
    "катування",
    "побиття",
    "камера",
    "ізолятор",
    "допит",
    "слідчий",
    "адвокат",
    "погрози",
    "родина",
    "прокурор",
    "суд",
    "вирок",
    "медичний",
    "огляд",
    "травма",
    "синець",
    "перелом",
    "свідок",
    "охоронець",
    "наручники",
    "підвал",
    "блокпост",
    "фільтрація",
    "зникнення",
    "викрадення",
    "полон",
    "звільнення",
    "обмін",
    "лікар",
    "ліки",
    "голод",
    "холод",
    "сирість",
    "переповненість",
    "вентиляція",
    "прогулянка",
    "передача",
    "листування",
    "скарга",
    "заява",
    "протокол",
    "обшук",
    "телефон",
    "примус",
    "зізнання",
    "відео",
    "струм",
    "задуха",
    "мішок",
    "кийок",
    "ноги",
    "спина",
    "голова",
    "ребра",
    "нирки",
    "погрожували",
    "вимагали",
    "підписати",
    "змусили",
    "тримали",
    "годинами",
    "вночі",
    "вранці",
    "Харків",
    "Херсон",
    "Маріуполь",
    "Запоріжжя",
    "Донецьк",
    "Мелітополь",
    "Бердянськ",
    "Ізюм",
    "колонія",
    "СІЗО",
    "ІТТ",
    "відділ",
    "поліції",
    "військова",
    "частина",
    "комендатура",
]
RU = [
    "задержанный",
    "пытки",
    "избиение",
    "камера",
    "изолятор",
    "допрос",
    "следователь",
    "адвокат",
    "угрозы",
    "семья",
    "прокурор",
    "суд",
    "приговор",
    "медицинский",
    "осмотр",
    "травма",
    "синяк",
    "перелом",
    "свидетель",
    "охранник",
    "наручники",
    "подвал",
    "блокпост",
    "фильтрация",
    "исчезновение",
    "похищение",
    "плен",
    "освобождение",
    "обмен",
    "врач",
    "лекарства",
    "голод",
    "холод",
    "сырость",
    "переполненность",
    "вентиляция",
    "прогулка",
    "передача",
    "переписка",
    "жалоба",
    "заявление",
    "протокол",
    "обыск",
    "телефон",
    "принуждение",
    "признание",
    "видео",
    "ток",
    "удушье",
    "пакет",
    "дубинка",
    "ноги",
    "спина",
    "голова",
    "рёбра",
    "почки",
    "угрожали",
    "требовали",
    "подписать",
    "заставили",
    "держали",
    "часами",
    "ночью",
    "утром",
    "Пётр",
    "Семён",
    "её",
    "всё",
    "ещё",
    "колония",
    "СИЗО",
    "ИВС",
    "отдел",
    "полиции",
    "воинская",
    "часть",
    "комендатура",
]
EN = [
    "detainee",
    "torture",
    "beating",
    "cell",
    "isolation",
    "interrogation",
    "investigator",
    "lawyer",
    "threats",
    "family",
    "prosecutor",
    "court",
    "sentence",
    "medical",
    "examination",
    "injury",
    "bruise",
    "fracture",
    "witness",
    "guard",
    "handcuffs",
    "basement",
    "checkpoint",
    "filtration",
    "disappearance",
    "abduction",
    "captivity",
    "release",
    "exchange",
    "doctor",
    "medicine",
    "hunger",
    "cold",
    "damp",
    "overcrowding",
    "ventilation",
    "exercise",
    "parcel",
    "correspondence",
    "complaint",
    "statement",
    "protocol",
    "search",
    "phone",
    "coercion",
    "confession",
    "video",
    "electric",
    "suffocation",
    "bag",
    "baton",
    "legs",
    "back",
    "head",
    "ribs",
    "kidneys",
    "café",
    "régime",
]
SYLLABLES = {
    "uk": [
        "ба",
        "ва",
        "га",
        "ґа",
        "да",
        "же",
        "зи",
        "ка",
        "ла",
        "ме",
        "ні",
        "по",
        "ро",
        "си",
        "ту",
        "фе",
        "хо",
        "ци",
        "чу",
        "ша",
        "щі",
        "юн",
        "ять",
        "їж",
        "єв",
        "ко",
        "рі",
        "ли",
        "мо",
    ],
    "ru": [
        "ба",
        "ва",
        "га",
        "да",
        "же",
        "зи",
        "ка",
        "ла",
        "ме",
        "ни",
        "по",
        "ро",
        "сы",
        "ту",
        "фе",
        "хо",
        "цы",
        "чу",
        "ша",
        "щи",
        "юн",
        "ять",
        "ёж",
        "ев",
        "ко",
        "ри",
        "лы",
        "мо",
    ],
    "en": [
        "ba",
        "ve",
        "go",
        "da",
        "le",
        "mi",
        "no",
        "pa",
        "ro",
        "si",
        "tu",
        "fe",
        "ho",
        "ky",
        "ch",
        "sh",
        "ri",
        "lo",
        "ma",
        "ne",
        "ta",
        "de",
    ],
}
RARE_SHARE = 0.3  # of the words in a text: names, places and terms that few records share


def rare_words(language: str, count: int, seed: int) -> list[str]:
    """Made-up words of 2-4 syllables: the long tail of a real vocabulary."""
    rng = random.Random(f"{seed}-{language}")
    syllables = SYLLABLES[language]
    words: set[str] = set()
    while len(words) < count:
        words.add("".join(rng.choices(syllables, k=rng.randint(2, 4))))
    return sorted(words)


class Language:
    """Common words drawn by Zipf's law (the first is the most frequent) plus a long tail."""

    def __init__(self, code: str, common: list[str], seed: int) -> None:
        self.code = code
        self.common = common
        weights = [1 / (rank + 1) for rank in range(len(common))]
        total = 0.0
        self.cumulative = []
        for w in weights:
            total += w
            self.cumulative.append(total)
        self.rare = rare_words(code, 4000, seed)

    def words(self, rng: random.Random, n: int) -> list[str]:
        out = rng.choices(self.common, cum_weights=self.cumulative, k=n)
        for i in range(n):
            if rng.random() < RARE_SHARE:
                out[i] = rng.choice(self.rare)
        return out


def languages(seed: int) -> list[tuple[Language, float]]:
    return [
        (Language("uk", UK, seed), 0.5),
        (Language("ru", RU, seed), 0.35),
        (Language("en", EN, seed), 0.15),
    ]


def rare_queries(seed: int, per_language: int) -> list[str]:
    rng = random.Random(seed + 1)
    return [
        word
        for language, _share in languages(seed)
        for word in rng.sample(language.rare, per_language)
    ]


QUERIES = [
    "катування",
    "побиття камера",
    "ізолятор",
    "допит",
    "адвокат",
    "синець",
    "переповненість",
    "сирість",
    "блокпост",
    "викрадення",
    "зізнання",
    "Харків",
    "Маріуполь",
    "наручники підвал",
    "погрожували",
    "ката",
    "лікар",
    "ліки",
    "протокол обшук",
    "СІЗО",
    "пытки",
    "избиение",
    "изолятор",
    "допрос",
    "синяк",
    "переполненность",
    "сырость",
    "похищение",
    "признание",
    "подвал",
    "угрожали",
    "рёбра",
    "ребра",
    "Петр",
    "Семён",
    "пыт",
    "врач лекарства",
    "колония",
    "обыск",
    "задержанный камера",
    "torture",
    "beating",
    "interrogation",
    "lawyer",
    "bruise",
    "overcrowding",
    "cafe",
    "regime",
    "confes",
    "handcuffs basement",
]


class Generator:
    """Valid, normalised record data, quickly (the shapes the validator produces)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.counter = 0
        pairs = languages(seed)
        self.languages = [language for language, _share in pairs]
        self.shares = [share for _language, share in pairs]

    def words(self, low: int, high: int) -> str:
        language = self.rng.choices(self.languages, weights=self.shares)[0]
        return " ".join(language.words(self.rng, self.rng.randint(low, high)))

    def sentence(self, low: int = 8, high: int = 20) -> str:
        text = self.words(low, high)
        return text[0].upper() + text[1:] + "."

    def paragraph(self, sentences: int) -> str:
        return " ".join(self.sentence() for _ in range(sentences))

    def day(self) -> str:
        year, month, day = (
            self.rng.randint(22, 25),
            self.rng.randint(1, 12),
            self.rng.randint(1, 28),
        )
        return f"20{year}-{month:02d}-{day:02d}"

    def date(self) -> dict[str, str]:
        return {"value": self.day(), "precision": "exact"}

    def code(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}-{self.counter:06d}"

    def facility(self) -> dict[str, Any]:
        return {
            "official_name": f"{self.words(2, 4).capitalize()} №{self.rng.randint(1, 99)}",
            "facility_type": self.rng.choice(["sizo", "temporary_holding", "penal_colony"]),
            "oblast": self.rng.choice(["kharkiv", "kherson", "donetsk", "zaporizhzhia"]),
            "capacity": self.rng.randint(20, 900),
            "notes": self.paragraph(2),
        }

    def person(self) -> dict[str, Any]:
        return {
            "pseudonym": self.code("W"),
            "sex": self.rng.choice(["male", "female"]),
            "occupation": self.words(1, 2),
            "health": self.sentence(),
        }

    def case(self, person_id: str, facility_id: str) -> dict[str, Any]:
        return {
            "title": self.sentence(4, 9).rstrip("."),
            "case_type": self.rng.choice(["torture_allegation", "conditions_complaint", "other"]),
            "initial_date": self.date(),
            "monitoring_status": self.rng.choice(["active", "pending", "not_active"]),
            "description": self.paragraph(self.rng.randint(2, 6)),
            "acts": [{"victim": person_id, "act_type": "torture", "facility": facility_id}],
        }

    def visit(self, facility_id: str) -> dict[str, Any]:
        return {
            "reference": self.code("V"),
            "facility": facility_id,
            "facility_type": "sizo",
            "visit_kind": "regular",
            "visit_mode": "on_site",
            "visit_date": self.date(),
            "team": [{"member": self.code("M"), "role": "civic_monitor"}],
            "official_capacity": 100,
            "total_present": self.rng.randint(40, 160),
            "areas": [
                {
                    "label": f"Камера №{self.rng.randint(1, 60)}",
                    "area_type": "cell",
                    "floor_area_m2": self.rng.randint(8, 30),
                    "occupants": self.rng.randint(1, 12),
                    "notes": self.sentence(),
                }
                for _ in range(self.rng.randint(1, 3))
            ],
            "findings": self.paragraph(self.rng.randint(2, 5)),
        }

    def interview(self, person_id: str, case_id: str, visit_id: str) -> dict[str, Any]:
        return {
            "interviewee_code": self.code("W"),
            "interviewee": person_id,
            "connection": "victim",
            "cases": [case_id],
            "visit": visit_id,
            "interview_date": self.date(),
            "location_type": "ngo_office",
            "mode": "in_person",
            "explained_purpose": True,
            "explained_use": True,
            "explained_right_to_stop": True,
            "consent": {"scopes": [{"scope": "interview", "status": "granted"}]},
            "consent_form": "oral_recorded",
            "narrative": self.paragraph(self.rng.randint(4, 12)),
            "ill_treatment": [{"description": self.paragraph(2), "methods": ["beating"]}],
        }

    def recommendation(self, visit_id: str, facility_id: str) -> dict[str, Any]:
        return {
            "title": self.sentence(3, 7).rstrip("."),
            "origin": "visit",
            "origin_visit": visit_id,
            "facility": facility_id,
            "addressee": "facility_head",
            "text": self.paragraph(2),
            "theme": "material_conditions",
            "priority": "high",
            "issued_on": self.date(),
            "implementation_status": self.rng.choice(["not_implemented", "in_progress", "fully"]),
        }


def plan(total: int) -> dict[str, int]:
    facilities = max(3, total // 200)
    persons = max(1, total * 25 // 100)
    cases = max(1, total * 10 // 100)
    visits = max(1, total * 15 // 100)
    interviews = max(1, total * 40 // 100)
    recommendations = max(0, total - facilities - persons - cases - visits - interviews)
    return {
        "facility": facilities,
        "person": persons,
        "case": cases,
        "visit": visits,
        "interview": interviews,
        "recommendation": recommendations,
    }


def check_generated(kind: str, data: dict[str, Any]) -> None:
    try:
        normalised = validate_record(kind, data)
    except RecordValidationError as exc:
        raise SystemExit(f"generated {kind} data is invalid: {exc.message()}") from None
    if normalised != data:
        raise SystemExit(f"generated {kind} data is not in normalised form")


def populate(vault: Vault, total: int, seed: int) -> dict[str, float]:
    gen = Generator(seed)
    store = RecordStore(vault.device_id)
    counts = plan(total)
    ids: dict[str, list[str]] = {kind: [] for kind in counts}

    def pick(kind: str) -> str:
        return gen.rng.choice(ids[kind])

    makers: dict[str, Callable[[], dict[str, Any]]] = {
        "facility": gen.facility,
        "person": gen.person,
        "case": lambda: gen.case(pick("person"), pick("facility")),
        "visit": lambda: gen.visit(pick("facility")),
        "interview": lambda: gen.interview(pick("person"), pick("case"), pick("visit")),
        "recommendation": lambda: gen.recommendation(pick("visit"), pick("facility")),
    }
    timings: dict[str, float] = {}
    for kind, count in counts.items():
        started = time.perf_counter()
        done = 0
        while done < count:
            size = min(BATCH, count - done)
            batch = [(kind, makers[kind](), gen.rng.random() < 0.1) for _ in range(size)]
            # The generator must produce exactly what validation would: check a sample.
            for _kind, data, _conf in batch[::50]:
                check_generated(kind, data)
            with vault.session() as s:
                ids[kind].extend(store.create_many(s, batch))
            done += size
        timings[kind] = time.perf_counter() - started
    return timings


# --- the plain copy ----------------------------------------------------------------------------

_SKIP = ("sqlite_", "records_fts_")
# What the profile's engine sets after the key (storage/engine.py), minus what needs a key.
PLAIN_PRAGMAS = (
    "temp_store = MEMORY",
    "journal_mode = WAL",
    "synchronous = FULL",
    "foreign_keys = ON",
    "secure_delete = ON",
)


def plain_copy(vault: Vault, target: Path) -> None:
    """Same schema (tables, indexes, the FTS table) and the same rows, unencrypted."""
    source = connect_raw(database_path(vault.path), vault.subkey(SQLCIPHER_PURPOSE))
    plain = plain_connect(target)
    try:
        schema = source.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid"
        ).fetchall()
        tables = []
        for kind, name, sql in schema:
            if name.startswith(_SKIP) or kind == "trigger":
                continue
            plain.execute(sql)
            if kind == "table" and not sql.upper().startswith("CREATE VIRTUAL"):
                tables.append(name)
        for name in tables:
            cursor = source.execute(f'SELECT * FROM "{name}"')
            width = len(cursor.description)
            marks = ", ".join("?" * width)
            while rows := cursor.fetchmany(5000):
                plain.executemany(f'INSERT INTO "{name}" VALUES ({marks})', rows)
                plain.commit()  # small transactions keep the copy's memory flat
        cursor = source.execute("SELECT rowid, title, body FROM records_fts")
        while rows := cursor.fetchmany(5000):
            plain.executemany("INSERT INTO records_fts (rowid, title, body) VALUES (?, ?, ?)", rows)
            plain.commit()
        plain.commit()
        plain.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        if not target.read_bytes()[:16].startswith(b"SQLite format 3"):
            raise SystemExit("the comparison copy is not a plain SQLite file")
    finally:
        plain.close()
        source.close()


def plain_connect(path: Path) -> sqlcipher3.Connection:
    """The same driver and SQLite build as the profile, without a key: plain SQLite."""
    conn = sqlcipher3.connect(str(path), check_same_thread=False)
    for pragma in PLAIN_PRAGMAS:
        conn.execute(f"PRAGMA {pragma}")
    return conn


def plain_sessions(path: Path) -> sessionmaker[Session]:
    # Pooled as the profile's engine is (storage/engine.py), so that both columns pay the same.
    engine = create_engine(
        "sqlite+fieldkit_sqlcipher://",
        creator=lambda: plain_connect(path),
        poolclass=KeyedPool,
        pool_size=POOL_SIZE,
        max_overflow=-1,
    )
    return sessionmaker(engine, expire_on_commit=False)


# --- measuring ---------------------------------------------------------------------------------


def reps(count: int, scale: float) -> int:
    return max(2, int(count * scale))


Sample = tuple[float, float]  # wall-clock ms, CPU ms of this process


class Clock:
    """Wall-clock and CPU time of one operation (CPU time is what load from others spares)."""

    def __enter__(self) -> Clock:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.sample: Sample = (
            (time.perf_counter() - self.wall) * 1000,
            (time.process_time() - self.cpu) * 1000,
        )


def timed(fn: Callable[[], Any], repeat: int) -> list[Sample]:
    samples = []
    for _ in range(repeat):
        with Clock() as clock:
            fn()
        samples.append(clock.sample)
    return samples


def pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


@contextmanager
def fresh_session(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work on the plain copy, as ``vault.session()`` is on the profile."""
    with factory() as session, session.begin():
        yield session


def measure(
    open_session: Callable[[], Any], store: RecordStore, facility: str, scale: float, seed: int
) -> dict[str, Any]:
    """The same queries on one database; each in its own fresh session (one unit of work)."""
    results: dict[str, Any] = {}

    def run(fn: Callable[[Session], Any]) -> Callable[[], Any]:
        def call() -> Any:
            with open_session() as s:
                return fn(s)

        return call

    results["first page (50, by last change)"] = timed(
        run(lambda s: store.list(s, limit=50)), reps(30, scale)
    )
    results["page 200 (offset 10,000)"] = timed(
        run(lambda s: store.list(s, offset=10_000, limit=50)), 10
    )
    # The light rows the desktop list and `record list` read (no data column, nothing parsed).
    results["first page, list rows only"] = timed(
        run(lambda s: store.list_summaries(s, limit=50)), reps(30, scale)
    )
    results["page 200, list rows only"] = timed(
        run(lambda s: store.list_summaries(s, offset=10_000, limit=50)), 10
    )
    results["1,000 rows, full records"] = timed(
        run(lambda s: store.list(s, limit=1000)), reps(10, scale)
    )
    results["1,000 rows, list rows only"] = timed(
        run(lambda s: store.list_summaries(s, limit=1000)), reps(10, scale)
    )
    results["count all"] = timed(run(lambda s: store.count(s)), reps(10, scale))
    interviews = RecordFilters(types=("interview",))
    results["first page, interviews only"] = timed(
        run(lambda s: store.list(s, interviews, limit=50)), 20
    )
    results["count, interviews only"] = timed(
        run(lambda s: store.count(s, interviews)), reps(10, scale)
    )
    by_facility = RecordFilters(facility_id=facility)
    results["first page, one facility"] = timed(
        run(lambda s: store.list(s, by_facility, limit=50)), 20
    )
    month = RecordFilters(date_from="2024-03-01", date_to="2024-03-31")
    results["first page, one month"] = timed(
        run(lambda s: store.list(s, month, limit=50)), reps(20, scale)
    )
    queries = QUERIES[: reps(len(QUERIES), scale)] + rare_queries(seed, reps(5, scale))
    search_times: list[Sample] = []
    hits = 0
    for query in queries:
        with Clock() as clock, open_session() as s:
            found, _more = SearchIndex.search(s, query, limit=50)
        search_times.append(clock.sample)
        hits += len(found)
    results[f"search ({len(queries)} queries, a session each)"] = search_times
    results["_search_hits"] = hits
    warm: list[Sample] = []
    with open_session() as s:
        for query in queries:
            with Clock() as clock:
                SearchIndex.search(s, query, limit=50)
            warm.append(clock.sample)
    results[f"search ({len(queries)} queries, one session)"] = warm
    filtered = RecordFilters(types=("interview",), date_from="2024-01-01", date_to="2024-12-31")
    results["search + type + year filter"] = timed(
        run(lambda s: SearchIndex.search(s, "катування", filtered, limit=50)), 20
    )
    results["search count (катування)"] = timed(
        run(lambda s: SearchIndex.count(s, "катування")), 10
    )
    return results


def heap_peak(open_session: Callable[[], Any], store: RecordStore, scale: float, seed: int) -> int:
    """The Python heap's peak over list pages and the searches, with tracemalloc on."""
    queries = QUERIES[: reps(len(QUERIES), scale)] + rare_queries(seed, reps(5, scale))
    gc.collect()
    tracemalloc.start()
    try:
        with open_session() as s:
            store.list(s, limit=1000)
            store.list_summaries(s, limit=1000)
            for query in queries:
                SearchIndex.search(s, query, limit=50)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


FIRST_QUERY = "SELECT id FROM records WHERE deleted = 0 ORDER BY updated_at DESC, id DESC LIMIT 50"


def open_and_first_query_cipher(vault: Vault) -> float:
    key = vault.subkey(SQLCIPHER_PURPOSE)
    started = time.perf_counter()
    conn = connect_raw(database_path(vault.path), key)
    conn.execute(FIRST_QUERY).fetchall()
    elapsed = (time.perf_counter() - started) * 1000
    conn.close()
    return elapsed


def open_and_first_query_plain(path: Path) -> float:
    started = time.perf_counter()
    conn = plain_connect(path)
    conn.execute(FIRST_QUERY).fetchall()
    elapsed = (time.perf_counter() - started) * 1000
    conn.close()
    return elapsed


def generate(workdir: Path, total: int, seed: int) -> None:
    """Profile and plain copy in ``workdir`` (run in a child process, see ``main``)."""
    profile, plain_path = workdir / "profile", workdir / "plain.db"
    vault = Vault.create(
        profile, PASSPHRASE, Role.MONITOR, KdfParams.insecure_for_tests(), check_strength=False
    )
    started = time.perf_counter()
    timings = populate(vault, total, seed)
    generation = time.perf_counter() - started
    with vault.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    started = time.perf_counter()
    plain_copy(vault, plain_path)
    copy_time = time.perf_counter() - started
    vault.lock()
    per_kind = ", ".join(f"{kind} {seconds:.1f} s" for kind, seconds in timings.items())
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"entered {total:,} records through the repository in {generation:.1f} s "
        f"({total / generation:,.0f} records/s; {per_kind}); plain copy made in {copy_time:.1f} s; "
        f"peak memory of this step {rss:.0f} MB"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000, help="records to generate")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument(
        "--keep", type=Path, help="keep the profile and plain copy in this folder; reuse them"
    )
    parser.add_argument(
        "--quick", action="store_true", help="few repetitions (a smoke run, not a measurement)"
    )
    parser.add_argument("--generate-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault("FIELDKIT_INSECURE_TEST_KDF", "1")
    if args.generate_only:
        generate(args.generate_only, args.records, args.seed)
        return 0

    workdir = args.keep or Path(tempfile.mkdtemp(prefix="fieldkit-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    profile, plain_path = workdir / "profile", workdir / "plain.db"
    try:
        header()
        if (profile / "profile.db").exists() and plain_path.exists():
            print(f"reusing the profile and plain copy in {workdir}")
        else:
            # A child process, so that the peak memory below is the queries' own.
            command = [sys.executable, __file__, "--generate-only", str(workdir)]
            command += ["--records", str(args.records), "--seed", str(args.seed)]
            subprocess.run(command, check=True)
        measure_all(profile, plain_path, 0.1 if args.quick else 1.0, args.seed)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


def measure_all(profile: Path, plain_path: Path, scale: float, seed: int) -> None:
    # Unlock = key derivation + everything after it; the derivation is measured on its own.
    vault = Vault.unlock(profile, PASSPHRASE)
    kdf = vault.kdf
    vault.lock()
    kdf_ms = statistics.median(w for w, _cpu in timed(lambda: derive_key(PASSPHRASE, kdf), 5))
    unlock_samples = []
    for _ in range(5):
        gc.collect()
        started = time.perf_counter()
        vault = Vault.unlock(profile, PASSPHRASE)
        with vault.session() as s:
            RecordStore(vault.device_id).list(s, limit=50)
        unlock_samples.append((time.perf_counter() - started) * 1000 - kdf_ms)
        vault.lock()
    vault = Vault.unlock(profile, PASSPHRASE)
    raw_cipher = statistics.median(open_and_first_query_cipher(vault) for _ in range(10))
    raw_plain = statistics.median(open_and_first_query_plain(plain_path) for _ in range(10))

    store = RecordStore(vault.device_id)
    with vault.session() as s:
        total = store.count(s)
        facility = store.list(s, RecordFilters(types=("facility",)), limit=1)[0].id
    plain_factory = plain_sessions(plain_path)
    cipher = measure(vault.session, store, facility, scale, seed)
    plain = measure(lambda: fresh_session(plain_factory), store, facility, scale, seed)
    # The heap is traced in a pass of its own: tracemalloc hooks every allocation and would
    # slow the timed queries (a search twice as slow under it).
    cipher_peak = heap_peak(vault.session, store, scale, seed)
    plain_peak = heap_peak(lambda: fresh_session(plain_factory), store, scale, seed)
    vault.lock()
    cipher_size = sum(p.stat().st_size for p in profile.glob("profile.db*"))
    plain_size = sum(p.stat().st_size for p in plain_path.parent.glob(plain_path.name + "*"))

    print(f"records in the profile: {total:,}")
    print(
        f"key derivation ({kdf.memory_kib // 1024} MiB Argon2id test parameters here; about "
        f"500 ms with the defaults): {kdf_ms:.1f} ms, not included below"
    )
    print()
    line = (
        f"{'measurement (ms)':<44} {'SQLCipher':>9} {'plain':>8} {'ratio':>6}"
        f"   {'CPU: cipher':>11} {'plain':>8} {'ratio':>6}"
    )
    print(line)
    print("-" * len(line))

    def ratio(a: float, b: float | None) -> str:
        return f"{a / b:5.2f}x" if b else f"{'':>6}"

    def row(name: str, wall: tuple[float, float | None], cpu: tuple[float, float] | None) -> None:
        a, b = wall
        text_ = f"{name:<44} {a:9.2f} {b if b is not None else float('nan'):8.2f} {ratio(a, b)}"
        if cpu is not None:
            text_ += f"   {cpu[0]:11.2f} {cpu[1]:8.2f} {ratio(cpu[0], cpu[1])}"
        print(text_.replace("nan", "  —"))

    def stat(samples: list[Sample], which: int, p: float | None) -> float:
        values = [sample[which] for sample in samples]
        return statistics.median(values) if p is None else pct(values, p)

    row("unlock after KDF + first page (p50)", (statistics.median(unlock_samples), None), None)
    row("raw open + first query (p50)", (raw_cipher, raw_plain), None)
    for name in cipher:
        if name.startswith("_"):
            continue
        a, b = cipher[name], plain[name]
        for label, p in (
            (("p50", 50.0), ("p95", 95.0)) if name.startswith("search (") else (("(p50)", None),)
        ):
            row(
                f"{name} {label}",
                (stat(a, 0, p), stat(b, 0, p)),
                (stat(a, 1, p), stat(b, 1, p)),
            )
    print("-" * len(line))
    print(
        f"Python heap peak while querying: {cipher_peak / 2**20:.2f} MB (SQLCipher), "
        f"{plain_peak / 2**20:.2f} MB (plain)"
    )
    print(
        f"database size: {cipher_size / 2**20:.0f} MB (SQLCipher), {plain_size / 2**20:.0f} MB "
        f"(plain), ratio {cipher_size / plain_size:.2f}"
    )
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of the measuring process (max RSS, both databases): {maxrss:.0f} MB")
    print(
        f"search hits on the first pages: {cipher['_search_hits']} (SQLCipher), "
        f"{plain['_search_hits']} (plain) — the same data gives the same answers"
    )


def header() -> None:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    version = sqlcipher3.connect(":memory:").execute("SELECT sqlite_version()").fetchone()[0]
    print(
        f"fieldkit records benchmark: Python {sys.version.split()[0]}, SQLite {version} "
        f"(the sqlcipher3 build, keyed and unkeyed), {os.cpu_count()} CPUs, load average {load} "
        "(other work on the machine slows both columns alike)",
        flush=True,
    )


if __name__ == "__main__":
    raise SystemExit(main())
