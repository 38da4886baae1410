"""What bundle imports, refusals and receipts mean, in the words a monitor or coordinator uses
(the desktop program and the command line say the same)."""

from __future__ import annotations

from collections.abc import Iterable

from fieldkit import i18n
from fieldkit.domain.errors import N_, ErrorCode
from fieldkit.services.bundles.common import BundleReport, ReceiptResult
from fieldkit.services.bundles.sequence import gaps_text


def record_counts_text(report: BundleReport) -> str:
    """``new: 5, updated: 1, unchanged: 0, conflicts: 0``: every count with its label."""
    return i18n._(
        "new: {new}, updated: {updated}, unchanged: {same}, conflicts: {conflicts}"
    ).format(
        new=report.records_new,
        updated=report.records_updated,
        same=report.records_same,
        conflicts=len(report.conflicts),
    )


_COPY_AGAIN = N_(
    "What to do: copy the bundle again from the monitor's laptop or the stick (or ask the "
    "monitor to export again; nothing is lost there), then import it again. If it happens "
    "again, suspect tampering."
)
_KEY_IN_WRONG_HANDS = N_(
    "What to do: this is serious, the laptop's key may be in someone else's hands. Revoke the "
    "device (Organisation → Trusted devices) and talk to the monitor in person."
)
_BUILT_WRONGLY = N_(
    "What to do: do not try to open it by other means; report it to the person responsible "
    "for security in the organisation."
)

NEXT_STEPS: dict[str, str] = {
    ErrorCode.BUNDLE_TAMPERED.value: _COPY_AGAIN,
    ErrorCode.BUNDLE_CHECKSUM_MISMATCH.value: _COPY_AGAIN,
    ErrorCode.BUNDLE_SIGNATURE_INVALID.value: _COPY_AGAIN,
    ErrorCode.BUNDLE_MEMBER_INVALID.value: _COPY_AGAIN,
    ErrorCode.BUNDLE_TRUNCATED.value: N_(
        "What to do: copy it again from the source device or stick, then import it again."
    ),
    ErrorCode.FILE_NOT_READABLE.value: N_(
        "What to do: check that the stick is still connected and the file is there, then "
        "import it again."
    ),
    ErrorCode.BUNDLE_WRONG_RECIPIENT.value: N_(
        "What to do: check which organisation card the monitor enrolled with; a bundle made "
        "for another organisation cannot be opened here."
    ),
    ErrorCode.NOT_A_BUNDLE.value: N_(
        "What to do: check the file; a bundle is the .fkb file the monitor's laptop wrote."
    ),
    ErrorCode.BUNDLE_UNSUPPORTED_VERSION.value: N_(
        "What to do: update fieldkit on this computer, then import the bundle again."
    ),
    ErrorCode.BUNDLE_LAYOUT.value: _BUILT_WRONGLY,
    ErrorCode.BUNDLE_UNSAFE_MEMBER.value: _BUILT_WRONGLY,
    ErrorCode.BUNDLE_TOO_LARGE.value: _BUILT_WRONGLY,
    ErrorCode.BUNDLE_MANIFEST_INVALID.value: _BUILT_WRONGLY,
    ErrorCode.BUNDLE_UNKNOWN_SIGNER.value: N_(
        "What to do: if it comes from one of your monitors, keep the file, enrol the laptop in "
        "person (Organisation → Trusted devices), then import the file again. Otherwise treat it "
        "as suspicious and discard it."
    ),
    ErrorCode.BUNDLE_REVOKED_SIGNER.value: N_(
        "What to do: contact the monitor through a safe channel before trusting anything in it."
    ),
    ErrorCode.BUNDLE_EQUIVOCATION.value: _KEY_IN_WRONG_HANDS,
    ErrorCode.BUNDLE_FORK.value: _KEY_IN_WRONG_HANDS,
    ErrorCode.BUNDLE_FOREIGN_CLAIM.value: _KEY_IN_WRONG_HANDS,
    ErrorCode.BUNDLE_DEVICE_MISMATCH.value: _KEY_IN_WRONG_HANDS,
    ErrorCode.BUNDLE_SEQ_JUMP.value: N_(
        "What to do: ask the monitor, through a safe channel, about the bundles in between; if "
        "the numbers cannot be explained, revoke the device."
    ),
    ErrorCode.WRONG_ROLE.value: N_("What to do: open the coordinator's profile and import there."),
}


def refusal_next_step(code: str | None) -> str | None:
    """The next step for a refused bundle (the user guide's table says the same), or None."""
    text = NEXT_STEPS.get(code or "")
    return i18n._(text) if text else None


def receipt_summary(result: ReceiptResult) -> list[str]:
    """What a receipt means for the monitor, in the interface language: which bundles the
    organisation has, how many records and evidence files from this laptop it now holds, and
    how many originals on this laptop may therefore be erased."""
    lines = [
        i18n._("Bundles from this laptop that the organisation has received: {seqs}.").format(
            seqs=seqs_text(result.bundles)
        ),
        i18n._("It now holds {records} and {files} from this laptop.").format(
            records=i18n.ngettext("{n} record", "{n} records", result.records_held).format(
                n=result.records_held
            ),
            files=i18n.ngettext(
                "{n} evidence file", "{n} evidence files", result.evidence_held
            ).format(n=result.evidence_held),
        ),
    ]
    if result.erasable:
        lines.append(
            i18n._(
                "Evidence originals on this laptop that the organisation holds and that may now "
                "be erased from here: {n}."
            ).format(n=result.erasable)
        )
    else:
        lines.append(i18n._("No evidence original on this laptop is waiting to be erased."))
    return lines


def seqs_text(seqs: Iterable[int]) -> str:
    """``1–3, 5`` for the bundle numbers 1, 2, 3 and 5."""
    runs: list[list[int]] = []
    for seq in sorted(set(seqs)):
        if runs and seq == runs[-1][1] + 1:
            runs[-1][1] = seq
        else:
            runs.append([seq, seq])
    return gaps_text(runs)
