"""Search results name the case each record belongs to."""

from __future__ import annotations

from fieldkit.services.records import CaseService, RecordService
from fieldkit.services.search import SearchService
from fieldkit.storage.vault import Vault


def test_each_hit_names_its_case(new_vault: Vault) -> None:
    case = CaseService(new_vault).add("Затримання QZXJ у Херсоні")
    records = RecordService(new_vault)
    linked = records.add("person", {"pseudonym": "QZXJ-1"})
    records.link_person(linked.id, case.id, "victim_direct")
    records.add("person", {"pseudonym": "QZXJ-2"})
    hits = {h.title: h for h in SearchService(new_vault).search("QZXJ").hits}
    assert hits["QZXJ-1"].case_title == "Затримання QZXJ у Херсоні"
    assert hits["QZXJ-2"].case_title == ""
    assert hits["Затримання QZXJ у Херсоні"].case_title == "Затримання QZXJ у Херсоні"
    assert {h.type for h in hits.values()} == {"person", "case"}
