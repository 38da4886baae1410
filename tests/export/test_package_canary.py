"""Leak test for case packages: the canary profile's case shared with a lawyer, every member of
the package searched for every name, code and marker the counsel audience may not have; then the
same for the case file the lawyer prints from the imported package.

Packages exist for one audience only (counsel); the forbidden tokens are the ones the report
canary test (``test_disclosure_canary``) derives from docs/disclosure.md, not from the policy.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fieldkit.crypto.kdf import KdfParams
from fieldkit.domain.disclosure import Audience
from fieldkit.domain.profile import Role
from fieldkit.services import counsel, trust
from fieldkit.services.package_receive import import_package
from fieldkit.services.package_share import share_case
from fieldkit.services.reports import ReportService
from fieldkit.storage.vault import Vault
from tests.export.bundle_kit import unpack
from tests.export.canary_kit import CanaryProfile, build_canary_profile, tokens_in
from tests.export.test_disclosure_canary import ALLOWED, _forbidden, _leaks
from tests.helpers import STRONG_PASSPHRASE


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[CanaryProfile, Vault]]:
    patch = pytest.MonkeyPatch()
    patch.setenv("FIELDKIT_INSECURE_TEST_KDF", "1")
    root = tmp_path_factory.mktemp("package-canary")
    kdf = KdfParams.insecure_for_tests()
    coordinator = Vault.create(root / "coordinator", STRONG_PASSPHRASE, Role.COORDINATOR, kdf)
    lawyer = Vault.create(root / "lawyer", STRONG_PASSPHRASE, Role.LAWYER, kdf)
    try:
        trust.init_org(coordinator, "Canary organisation")
        card = root / "org.pub"
        trust.write_card(coordinator, card)
        key = root / "lawyer.pub"
        counsel.enrol_counsel(lawyer, card, key)
        counsel.add_counsel(coordinator, key, "L-CANARY")
        yield build_canary_profile(coordinator, root), lawyer
    finally:
        coordinator.lock()
        lawyer.lock()
        patch.undo()


def _forbidden_for_counsel() -> list[str]:
    forbidden = _forbidden(Audience.COUNSEL, False, ALLOWED[Audience.COUNSEL])
    # B withdrew injury photographs; C consented to nothing counsel needs.
    return [*forbidden, "CANARYTXT-EINJ", "CANARYTXT-EPC"]


def _variants(token: str) -> list[bytes]:
    """How a token can stand in a member: UTF-8 as canonical JSON writes it, or \\u-escaped."""
    escaped = token.encode("ascii", "backslashreplace").decode("ascii").replace("\\x", "\\u00")
    return [token.encode("utf-8"), escaped.encode("ascii")]


@pytest.mark.slow
def test_every_member_of_the_package_leaks_nothing(
    office: tuple[CanaryProfile, Vault], tmp_path: Path
) -> None:
    profile, lawyer = office
    shared = share_case(profile.vault, profile.case_id, "L-CANARY", tmp_path)
    members = unpack(shared.path.read_bytes(), [counsel.counsel_identity(lawyer)])
    assert len(members) > 5
    forbidden = _forbidden_for_counsel()
    leaks = [
        f"{member.name.decode()}: {token}"
        for member in members
        for token in forbidden
        if any(v in member.data for v in _variants(token))
    ]
    assert leaks == []
    joined = b"\n".join(m.data for m in members).decode("utf-8", "replace")
    # The test can see what it looks for: A's and B's accounts are there, redacted.
    assert tokens_in(joined, ("CANARYTXT-IA-", "CANARYTXT-IB-", "CANARYTXT-K-")) == [
        "CANARYTXT-IA-",
        "CANARYTXT-IB-",
        "CANARYTXT-K-",
    ]
    assert "EVCANARY-PHOTO-A" in joined
    withheld = {w.id for w in shared.withheld}
    assert profile.evidence["EVCANARY-INJURY-B"] in withheld
    assert profile.evidence["EVCANARY-PHOTO-C"] in withheld
    assert profile.interviews["C"] in withheld

    # What the lawyer prints from it holds nothing more.
    import_package(lawyer, shared.path)
    pdf = tmp_path / "lawyer-case.pdf"
    ReportService(lawyer).case_file(profile.case_id, pdf, "en")
    assert _leaks(pdf, tuple(forbidden)) == []
