"""Audit log use cases: verify the chain of this profile and of the devices it received from."""

from __future__ import annotations

from dataclasses import dataclass

from fieldkit.i18n import _
from fieldkit.storage.audit import AuditEntry, AuditLog, AuditProblem, AuditReport
from fieldkit.storage.audit_verify import verify_foreign, verify_log
from fieldkit.storage.vault import Vault

__all__ = [
    "AuditEntry",
    "AuditProblem",
    "AuditReport",
    "AuditService",
    "FullAuditReport",
    "problem_lines",
]


@dataclass(frozen=True)
class FullAuditReport:
    """This profile's own chain and, per device, the chains received in bundles."""

    own: AuditReport
    foreign: dict[str, AuditReport]

    @property
    def ok(self) -> bool:
        return self.own.ok and all(r.ok for r in self.foreign.values())


def problem_lines(vault: Vault, *, full: bool = False) -> list[str]:
    """What is wrong with the audit chains, one line each (empty when intact); for `check`."""
    report = AuditService(vault).verify(full=full)
    lines = [
        _("audit entry {seq}: {reason}").format(seq=p.seq, reason=p.reason) if p.seq else p.reason
        for p in report.own.problems
    ]
    for device, foreign in report.foreign.items():
        lines.extend(
            _("device {device}, audit entry {seq}: {reason}").format(
                device=device, seq=p.seq, reason=p.reason
            )
            for p in foreign.problems
        )
    return lines


class AuditService:
    def __init__(self, vault: Vault) -> None:
        self._vault = vault

    def verify(self, *, full: bool = False) -> FullAuditReport:
        """Verify every chain; this profile's own continues from its newest signed checkpoint
        unless ``full`` (see storage/audit_verify.py)."""
        with self._vault.session() as s:
            if self._vault.backend == "postgresql":
                # one consistent view of the hub's tables, so a checkpoint covers what was checked
                s.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            own = verify_log(s, full=full)
            foreign = {d: verify_foreign(s, d) for d in AuditLog.foreign_devices(s)}
        return FullAuditReport(own=own, foreign=foreign)

    def entries_for(self, target_id: str) -> list[AuditEntry]:
        with self._vault.session() as s:
            return AuditLog.entries_for(s, target_id)

    def recent(self, limit: int = 50) -> list[AuditEntry]:
        with self._vault.session() as s:
            last, _hash = AuditLog.head(s)
            return list(AuditLog.entries_since(s, max(0, last - limit)))
