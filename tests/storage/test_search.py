"""Full-text search inside the encrypted database: languages, hostile queries, filters, paging."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.services.records import CaseService, RecordFilters, RecordService
from fieldkit.services.search import MARK_END, MARK_START, SearchService, highlight
from fieldkit.storage.vault import Vault
from tests.helpers import find_plaintext
from tests.storage.test_records_samples import facility_data, person_data, visit_data

# Each test runs on a profile's own SQLCipher file and on a hub's PostgreSQL.
pytestmark = pytest.mark.usefixtures("backend")


def _case(vault: Vault, title: str, **extra: object) -> str:
    return CaseService(vault).add(title, extra=dict(extra)).id


def _ids(vault: Vault, query: str, filters: RecordFilters | None = None) -> list[str]:
    return [h.record_id for h in SearchService(vault).search(query, filters).hits]


def test_ukrainian_and_russian_ignore_case(new_vault: Vault) -> None:
    uk = _case(new_vault, "Катування затриманого в ІТТ")
    ru = _case(new_vault, "Пытки задержанного в СИЗО")
    assert _ids(new_vault, "катування") == [uk]
    assert _ids(new_vault, "КАТУВАННЯ") == [uk]
    assert _ids(new_vault, "катув") == [uk]  # every word is also a prefix
    assert _ids(new_vault, "пытки") == [ru]
    assert _ids(new_vault, "затриман ітт") == [uk]
    assert _ids(new_vault, "затриман сизо") == []  # every word must match


def test_russian_yo_and_ye_find_each_other(new_vault: Vault) -> None:
    yo = _case(new_vault, "Задержан Пётр, всё изъяли")
    ye = _case(new_vault, "Свидетель Семен видел избиение")
    assert _ids(new_vault, "петр") == [yo]
    assert _ids(new_vault, "пётр") == [yo]
    assert _ids(new_vault, "семён") == [ye]
    assert _ids(new_vault, "Семен") == [ye]


def test_ukrainian_apostrophes_are_one_letter(new_vault: Vault) -> None:
    straight = _case(new_vault, "Сім'я затриманого не отримала звісток")
    curly = _case(new_vault, "Об’єкт не має вентиляції")
    assert _ids(new_vault, "сім’я") == [straight]
    assert _ids(new_vault, "сімʼя") == [straight]
    assert _ids(new_vault, "об'єкт") == [curly]
    # й and ї are letters of their own, not і with a mark.
    assert _ids(new_vault, "звисток") == []


def test_latin_accents_are_ignored(new_vault: Vault) -> None:
    record = _case(new_vault, "Visite de l'établissement pénitentiaire")
    assert _ids(new_vault, "etablissement penitentiaire") == [record]
    assert _ids(new_vault, "ÉTABLISSEMENT") == [record]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('"', "invalid"),
        ("\\", "invalid"),
        ('"катування', "hit"),
        ("катування*", "hit"),
        ("катування^", "hit"),
        ("\u0000катування", "hit"),
        ("NEAR(катування", "none"),
        ("* OR 1=1", "none"),
        ("катування AND OR NOT", "none"),
        ("title:катування", "none"),
        ("'); DROP TABLE records; --", "none"),
        ("{title body}: x", "none"),
    ],
)
def test_hostile_queries_are_plain_words(new_vault: Vault, query: str, expected: str) -> None:
    record = _case(new_vault, "Катування в ІТТ")
    if expected == "invalid":
        with pytest.raises(FieldkitError) as info:
            _ids(new_vault, query)
        assert info.value.code == ErrorCode.SEARCH_QUERY_INVALID
    else:
        assert _ids(new_vault, query) == ([record] if expected == "hit" else [])
    with new_vault.session() as s:
        assert s.execute(text("SELECT count(*) FROM records")).scalar_one() == 1


def test_a_query_without_words_is_explained(new_vault: Vault) -> None:
    with pytest.raises(FieldkitError) as info:
        SearchService(new_vault).search('" * ( )')
    assert info.value.code == ErrorCode.SEARCH_QUERY_INVALID
    assert "at least one word" in info.value.message()


def test_titles_rank_before_text_and_snippets_mark_words(new_vault: Vault) -> None:
    in_text = _case(new_vault, "Скарга на умови", description="Скаржник описав катування струмом.")
    in_title = _case(new_vault, "Катування струмом у відділі")
    hits = SearchService(new_vault).search("катування").hits
    assert [h.record_id for h in hits] == [in_title, in_text]
    assert hits[0].rank <= hits[1].rank
    assert f"{MARK_START}катування{MARK_END}" in hits[1].snippet.lower()
    assert "[катування]" in highlight(hits[1].snippet, "[", "]").lower()


def test_a_word_in_very_many_records_lists_titles_first_then_the_newest(
    new_vault: Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fieldkit.storage import search as search_index

    # As if the profile held more than RANKED_MATCHES records with the word.
    monkeypatch.setattr(search_index, "RANKED_MATCHES", 2)
    oldest = _case(new_vault, "Скарга перша", description="катування в камері")
    titled = _case(new_vault, "Катування струмом у відділі")
    middle = _case(new_vault, "Скарга друга", description="катування повторилось")
    newest = _case(new_vault, "Скарга третя", description="побиття і катування")
    _case(new_vault, "Скарга без цього слова", description="побиття")
    service = SearchService(new_vault)
    expected = [titled, newest, middle, oldest]
    assert [h.record_id for h in service.search("катування").hits] == expected
    # Pages join up across the ranked part and the rest, and with filters.
    pages = [service.search("катування", offset=n, limit=1) for n in range(4)]
    assert [p.hits[0].record_id for p in pages] == expected
    assert [p.has_more for p in pages] == [True, True, True, False]
    only_cases = RecordFilters(types=("case",))
    assert [h.record_id for h in service.search("катування", only_cases, offset=1).hits] == [
        newest,
        middle,
        oldest,
    ]
    assert service.count("катування") == 4


def test_filters_type_facility_dates_status(new_vault: Vault) -> None:
    service = RecordService(new_vault)
    facility = service.add("facility", facility_data())
    other = service.add("facility", {**facility_data(), "official_name": "СІЗО №27 (Харків)"})
    visit = service.add("visit", visit_data(facility.id))
    visit2 = service.add(
        "visit",
        {**visit_data(other.id), "reference": "V-2026-020", "visit_date": "2026-05-02"},
    )
    case = _case(new_vault, "Харків: переповненість", initial_date="2026-03")
    closed = _case(new_vault, "Харків: закрита справа", monitoring_status="not_active")

    assert set(_ids(new_vault, "харків")) == {facility.id, other.id, case, closed}
    assert set(_ids(new_vault, "камера", RecordFilters(types=("visit",)))) == {visit.id, visit2.id}
    assert _ids(new_vault, "камера", RecordFilters(types=("case", "person"))) == []
    assert _ids(new_vault, "сирість", RecordFilters(facility_id=facility.id)) == [visit.id]
    assert _ids(new_vault, "сирість", RecordFilters(facility_id=other.id)) == [visit2.id]
    may = RecordFilters(date_from="2026-05-01", date_to="2026-05-31")
    assert _ids(new_vault, "сирість", may) == [visit2.id]
    # A case dated only to the month spans the whole month.
    mid_march = RecordFilters(date_from="2026-03-20", date_to="2026-03-20")
    assert _ids(new_vault, "харків", mid_march) == [case]
    assert _ids(new_vault, "харків", RecordFilters(status="not_active")) == [closed]
    both = RecordFilters(types=("case", "facility"), status="active")
    assert _ids(new_vault, "харків", both) == [case]


def test_pages_and_counts(new_vault: Vault) -> None:
    ids = {_case(new_vault, f"Скарга №{i} щодо побиття") for i in range(7)}
    search = SearchService(new_vault)
    first = search.search("побиття", limit=3)
    second = search.search("побиття", offset=3, limit=3)
    third = search.search("побиття", offset=6, limit=3)
    assert first.has_more
    assert second.has_more
    assert not third.has_more
    found = [h.record_id for h in first.hits + second.hits + third.hits]
    assert len(found) == 7
    assert set(found) == ids
    assert search.count("побиття") == 7
    with pytest.raises(FieldkitError):
        search.search("побиття", limit=0)


def test_index_follows_revisions_and_deletion(new_vault: Vault) -> None:
    service = RecordService(new_vault)
    person = service.add("person", {**person_data(), "occupation": "тракторист"})
    assert _ids(new_vault, "тракторист") == [person.id]
    service.update(person.id, {**person_data(), "occupation": "пасічник"}, 1)
    assert _ids(new_vault, "тракторист") == []
    assert _ids(new_vault, "пасічник") == [person.id]
    service.delete(person.id, 2)
    assert _ids(new_vault, "пасічник") == []
    assert _ids(new_vault, "пасічник", RecordFilters(include_deleted=True)) == []


@pytest.mark.sqlcipher_only  # on a hub: tests/hub/test_hub_canary.py dumps the server
def test_search_text_never_reaches_the_disk_in_plaintext(new_vault: Vault) -> None:
    marker = "Унікальнийсекретниймаркер"
    _case(new_vault, f"{marker} катування", description=f"{marker} у тексті")
    assert _ids(new_vault, marker.lower())
    with new_vault.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
    assert find_plaintext(marker, new_vault.path) == []
    assert find_plaintext(marker.lower(), new_vault.path) == []
