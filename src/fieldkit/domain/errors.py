"""Error codes and the one table of user-facing messages.

Services raise ``FieldkitError(code, **params)``. The parameters are safe to show (file names, field
paths, counts, ids) and never hold record content or secrets. The command line and the desktop
program both turn an error into text with :meth:`FieldkitError.message`, in the user's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Protocol


def N_(message: str) -> str:
    """Mark a string for translation without translating it yet."""
    return message


class Translates(Protocol):
    def gettext(self, message: str) -> str: ...


class ErrorCode(StrEnum):
    # general
    CANCELLED = "cancelled"
    INVALID_ARGUMENT = "invalid_argument"
    NOT_FOUND = "not_found"
    CONFIRMATION_REQUIRED = "confirmation_required"
    WRONG_ROLE = "wrong_role"
    DISK_FULL = "disk_full"
    FILE_NOT_READABLE = "file_not_readable"
    FILE_EXISTS = "file_exists"
    FILE_NOT_WRITABLE = "file_not_writable"
    # profile and vault
    PROFILE_NOT_FOUND = "profile_not_found"
    PROFILE_EXISTS = "profile_exists"
    PROFILE_LOCKED = "profile_locked"
    PROFILE_IN_USE = "profile_in_use"
    WEAK_PASSPHRASE = "weak_passphrase"
    PASSPHRASE_MISMATCH = "passphrase_mismatch"
    PASSPHRASE_REQUIRED = "passphrase_required"
    WRONG_PASSPHRASE = "wrong_passphrase"
    PROFILE_ERASED_AFTER_FAILURES = "profile_erased_after_failures"
    DURESS_IS_PASSPHRASE = "duress_is_passphrase"
    KEYFILE_DAMAGED = "keyfile_damaged"
    KEYFILE_MISSING = "keyfile_missing"
    DATABASE_DAMAGED = "database_damaged"
    DATABASE_MISSING = "database_missing"
    SQLCIPHER_UNAVAILABLE = "sqlcipher_unavailable"
    UNSAFE_SQLITE_BUILD = "unsafe_sqlite_build"
    MIGRATION_FAILED = "migration_failed"
    DATABASE_TOO_NEW = "database_too_new"
    DATABASE_URL_INVALID = "database_url_invalid"
    DATABASE_UNREACHABLE = "database_unreachable"
    DATABASE_NOT_EMPTY = "database_not_empty"
    NOT_A_HUB = "not_a_hub"
    HUB_PERSON_UNKNOWN = "hub_person_unknown"
    HUB_PERSON_EXISTS = "hub_person_exists"
    HUB_ACCESS_REVOKED = "hub_access_revoked"
    HUB_INVITATION_INVALID = "hub_invitation_invalid"
    HUB_CODE_WRONG = "hub_code_wrong"
    HUB_INVITATION_USED = "hub_invitation_used"
    HUB_NOT_PERMITTED = "hub_not_permitted"
    HUB_SCHEMA_BEHIND = "hub_schema_behind"
    # records and forms
    TEMPLATE_INVALID = "template_invalid"
    TEMPLATE_UNKNOWN = "template_unknown"
    VALIDATION_FAILED = "validation_failed"
    RECORD_NOT_FOUND = "record_not_found"
    RECORD_DELETED = "record_deleted"
    RECORD_IN_USE = "record_in_use"
    RECORD_WRONG_TYPE = "record_wrong_type"
    RECORD_INVALID = "record_invalid"
    STALE_REVISION = "stale_revision"
    JSON_INVALID = "json_invalid"
    AUDIT_CHAIN_BROKEN = "audit_chain_broken"
    SEARCH_QUERY_INVALID = "search_query_invalid"
    # evidence
    EVIDENCE_NOT_FOUND = "evidence_not_found"
    EVIDENCE_TAMPERED = "evidence_tampered"
    EVIDENCE_MISSING_FILE = "evidence_missing_file"
    EVIDENCE_PURGED = "evidence_purged"
    EVIDENCE_DUPLICATE = "evidence_duplicate"
    HOSTILE_MEDIA = "hostile_media"
    PREVIEW_FAILED = "preview_failed"
    CUSTODY_CHAIN_BROKEN = "custody_chain_broken"
    # bundles, trust and receipts
    NOT_A_BUNDLE = "not_a_bundle"
    BUNDLE_TRUNCATED = "bundle_truncated"
    BUNDLE_WRONG_RECIPIENT = "bundle_wrong_recipient"
    BUNDLE_TAMPERED = "bundle_tampered"
    BUNDLE_LAYOUT = "bundle_layout"
    BUNDLE_UNSAFE_MEMBER = "bundle_unsafe_member"
    BUNDLE_TOO_LARGE = "bundle_too_large"
    BUNDLE_MANIFEST_INVALID = "bundle_manifest_invalid"
    BUNDLE_CHECKSUM_MISMATCH = "bundle_checksum_mismatch"
    BUNDLE_SIGNATURE_INVALID = "bundle_signature_invalid"
    BUNDLE_UNKNOWN_SIGNER = "bundle_unknown_signer"
    BUNDLE_REVOKED_SIGNER = "bundle_revoked_signer"
    BUNDLE_DEVICE_MISMATCH = "bundle_device_mismatch"
    BUNDLE_EQUIVOCATION = "bundle_equivocation"
    BUNDLE_FORK = "bundle_fork"
    BUNDLE_UNSUPPORTED_VERSION = "bundle_unsupported_version"
    BUNDLE_MEMBER_INVALID = "bundle_member_invalid"
    BUNDLE_FOREIGN_CLAIM = "bundle_foreign_claim"
    BUNDLE_SEQ_JUMP = "bundle_seq_jump"
    NOTHING_TO_EXPORT = "nothing_to_export"
    ORG_NOT_INITIALISED = "org_not_initialised"
    ORG_EXISTS = "org_exists"
    ORG_CARD_INVALID = "org_card_invalid"
    NOT_ENROLLED = "not_enrolled"
    DEVICE_KEY_INVALID = "device_key_invalid"
    TRUST_UNKNOWN_DEVICE = "trust_unknown_device"
    RECEIPT_INVALID = "receipt_invalid"
    NOT_A_RECEIPT = "not_a_receipt"
    RECEIPT_SIGNATURE_INVALID = "receipt_signature_invalid"
    ORG_KEY_INVALID = "org_key_invalid"
    SECRET_CONFIRMATION_REQUIRED = "secret_confirmation_required"
    FOLDER_NOT_FOUND = "folder_not_found"
    HELD_BUNDLE_NOT_FOUND = "held_bundle_not_found"
    # sync over the network
    SYNC_URL_INVALID = "sync_url_invalid"
    SYNC_NOT_CONFIGURED = "sync_not_configured"
    ORG_CARD_OTHER_ORG = "org_card_other_org"
    SYNC_CONNECT_FAILED = "sync_connect_failed"
    SYNC_CERTIFICATE_MISMATCH = "sync_certificate_mismatch"
    SYNC_BAD_RESPONSE = "sync_bad_response"
    SYNC_REFUSED = "sync_refused"
    SYNC_AUTH_FAILED = "sync_auth_failed"
    SYNC_RATE_LIMITED = "sync_rate_limited"
    SYNC_UPLOAD_BUSY = "sync_upload_busy"
    SYNC_SERVER_BUSY = "sync_server_busy"
    SYNC_UPLOAD_TOO_LARGE = "sync_upload_too_large"
    SYNC_UPLOAD_MISMATCH = "sync_upload_mismatch"
    SYNC_LISTEN_FAILED = "sync_listen_failed"
    # lawyers and case packages
    PROFILE_READ_ONLY = "profile_read_only"
    COUNSEL_KEY_INVALID = "counsel_key_invalid"
    COUNSEL_UNKNOWN = "counsel_unknown"
    COUNSEL_REVOKED = "counsel_revoked"
    COUNSEL_NOT_ENROLLED = "counsel_not_enrolled"
    PACKAGE_INVALID = "package_invalid"
    PACKAGE_TAMPERED = "package_tampered"
    PACKAGE_NOT_ADDRESSED_HERE = "package_not_addressed_here"
    PACKAGE_UNKNOWN_SIGNER = "package_unknown_signer"
    PACKAGE_OUTDATED = "package_outdated"
    CASE_NOT_FOR_COUNSEL = "case_not_for_counsel"
    # reports
    REPORT_FAILED = "report_failed"
    # disclosure
    UNKNOWN_AUDIENCE = "unknown_audience"
    AUDIENCE_BLOCKED = "audience_blocked"
    EVIDENCE_WITHHELD = "evidence_withheld"
    FONT_MISSING = "font_missing"
    # installation
    RESOURCES_MISSING = "resources_missing"


MESSAGES: dict[ErrorCode, str] = {
    ErrorCode.CANCELLED: N_("The operation was cancelled; nothing was changed."),
    ErrorCode.INVALID_ARGUMENT: N_("Invalid value: {detail}"),
    ErrorCode.NOT_FOUND: N_("Not found: {what}"),
    ErrorCode.CONFIRMATION_REQUIRED: N_(
        "This destroys data and cannot be undone; confirm with --yes."
    ),
    ErrorCode.WRONG_ROLE: N_("This needs a {needed} profile; this profile is a {actual} profile."),
    ErrorCode.DISK_FULL: N_(
        "Not enough free space at {path}; nothing was written. Free some space and try again."
    ),
    ErrorCode.FILE_NOT_READABLE: N_("Cannot read the file {path}: {reason}"),
    ErrorCode.FILE_EXISTS: N_("{path} already exists; choose another name."),
    ErrorCode.FILE_NOT_WRITABLE: N_("Cannot write the file {path}: {reason}"),
    ErrorCode.PROFILE_NOT_FOUND: N_(
        "No profile at {path}. Create one with 'fieldkit init' or choose another with --profile."
    ),
    ErrorCode.PROFILE_EXISTS: N_("A profile already exists at {path}."),
    ErrorCode.PROFILE_LOCKED: N_("The profile is locked; unlock it first."),
    ErrorCode.PROFILE_IN_USE: N_("The profile at {path} is in use by another fieldkit process."),
    ErrorCode.WEAK_PASSPHRASE: N_("The passphrase is too weak: {reason}"),
    ErrorCode.PASSPHRASE_MISMATCH: N_("The two passphrases do not match."),
    ErrorCode.PASSPHRASE_REQUIRED: N_(
        "A passphrase is needed: set FIELDKIT_PASSPHRASE or run in a terminal to be asked."
    ),
    ErrorCode.WRONG_PASSPHRASE: N_("Wrong passphrase for this profile."),
    ErrorCode.PROFILE_ERASED_AFTER_FAILURES: N_(
        "Wrong passphrase. After {count} failed unlocks in a row this profile was erased, as its "
        "settings asked; nothing of it can be opened any more."
    ),
    ErrorCode.DURESS_IS_PASSPHRASE: N_(
        "The duress passphrase must differ from the profile's passphrase."
    ),
    ErrorCode.KEYFILE_DAMAGED: N_(
        "The profile's key file {path} is damaged ({reason}); the database cannot be unlocked "
        "without it. Restore the key file from a backup."
    ),
    ErrorCode.KEYFILE_MISSING: N_("The profile's key file {path} is missing."),
    ErrorCode.DATABASE_DAMAGED: N_(
        "The profile's database {path} is damaged ({reason}). The passphrase is correct; "
        "restore the database from a backup or run 'fieldkit check'."
    ),
    ErrorCode.DATABASE_MISSING: N_("The profile's database {path} is missing."),
    ErrorCode.SQLCIPHER_UNAVAILABLE: N_(
        "SQLCipher is not available; fieldkit will not store data unencrypted."
    ),
    ErrorCode.UNSAFE_SQLITE_BUILD: N_("The SQLCipher build is unsafe: {reason}"),
    ErrorCode.MIGRATION_FAILED: N_(
        "Upgrading the profile's database failed ({reason}); a copy taken before the upgrade is "
        "at {backup}."
    ),
    ErrorCode.DATABASE_TOO_NEW: N_(
        "This profile was written by a newer fieldkit (database revision {revision}); "
        "update fieldkit to open it."
    ),
    ErrorCode.DATABASE_URL_INVALID: N_(
        "{url} is not the address of a PostgreSQL database; write it as "
        "postgresql://user@server/database."
    ),
    ErrorCode.DATABASE_UNREACHABLE: N_("Cannot connect to the database {url}: {reason}"),
    ErrorCode.DATABASE_NOT_EMPTY: N_(
        "The database {url} already holds fieldkit data; a new hub needs an empty database."
    ),
    ErrorCode.NOT_A_HUB: N_(
        "This profile keeps its records in its own file, not on a hub; this works only on a hub."
    ),
    ErrorCode.HUB_PERSON_UNKNOWN: N_("Nobody called {label} was granted access to this hub."),
    ErrorCode.HUB_PERSON_EXISTS: N_(
        "{label} already has access to this hub; revoke it first or choose another name."
    ),
    ErrorCode.HUB_ACCESS_REVOKED: N_(
        "The access of {label} to this hub was revoked; ask a coordinator for a new invitation."
    ),
    ErrorCode.HUB_INVITATION_INVALID: N_("{path} is not a usable hub invitation: {reason}"),
    ErrorCode.HUB_INVITATION_USED: N_(
        "The invitation {path} was used already; ask a coordinator for a new one."
    ),
    ErrorCode.HUB_CODE_WRONG: N_(
        "The one-time code does not open this invitation; check it with the coordinator."
    ),
    ErrorCode.HUB_NOT_PERMITTED: N_(
        "The database refused this as the role {role}: {reason}. Granting and revoking need a "
        "role with CREATEROLE (see the hub documentation)."
    ),
    ErrorCode.HUB_SCHEMA_BEHIND: N_(
        "The hub's database is at revision {revision} and this program needs {expected}; a "
        "coordinator opens the hub first to update it."
    ),
    ErrorCode.TEMPLATE_INVALID: N_("Form template {file} is invalid at {field}: {reason}"),
    ErrorCode.TEMPLATE_UNKNOWN: N_("Unknown form template: {template}"),
    ErrorCode.VALIDATION_FAILED: N_("{field}: {reason}"),
    ErrorCode.RECORD_NOT_FOUND: N_("No record with id {id}."),
    ErrorCode.RECORD_DELETED: N_("Record {id} has been deleted."),
    ErrorCode.RECORD_IN_USE: N_(
        "Record {id} is not deleted: live records refer to it (number of records: {count}; "
        "{examples}). Change those records first, or delete it anyway with --force."
    ),
    ErrorCode.RECORD_WRONG_TYPE: N_("{id} is a {actual} record, not a {expected} record."),
    ErrorCode.RECORD_INVALID: N_("The received version of record {id} is invalid: {reason}"),
    ErrorCode.STALE_REVISION: N_(
        "Record {id} was changed elsewhere (now revision {current}, you edited revision {edited})."
    ),
    ErrorCode.JSON_INVALID: N_("{path} is not valid JSON: {reason}"),
    ErrorCode.AUDIT_CHAIN_BROKEN: N_("The audit log is broken at entry {seq}: {reason}"),
    ErrorCode.SEARCH_QUERY_INVALID: N_("The search query could not be understood: {reason}"),
    ErrorCode.EVIDENCE_NOT_FOUND: N_("No evidence item with id {id}."),
    ErrorCode.EVIDENCE_TAMPERED: N_("Evidence item {id} failed its integrity check: {reason}"),
    ErrorCode.EVIDENCE_MISSING_FILE: N_("The stored file of evidence item {id} is missing."),
    ErrorCode.EVIDENCE_PURGED: N_("Evidence item {id} was purged from this profile."),
    ErrorCode.EVIDENCE_DUPLICATE: N_("{path} is already in this profile as evidence item {id}."),
    ErrorCode.HOSTILE_MEDIA: N_("{name} could not be safely read as an image: {reason}"),
    ErrorCode.PREVIEW_FAILED: N_("No preview could be made for {name}: {reason}"),
    ErrorCode.CUSTODY_CHAIN_BROKEN: N_(
        "The custody log of evidence item {id} is broken at event {seq}: {reason}"
    ),
    ErrorCode.NOT_A_BUNDLE: N_("{path} is not a fieldkit bundle: {reason}"),
    ErrorCode.BUNDLE_TRUNCATED: N_("{path} is incomplete; copy it again from the source."),
    ErrorCode.BUNDLE_WRONG_RECIPIENT: N_(
        "{path} was not encrypted to this organisation's key (or its encryption header was "
        "damaged); it cannot be opened here."
    ),
    ErrorCode.BUNDLE_TAMPERED: N_("{path} is damaged or was altered: {reason}"),
    ErrorCode.BUNDLE_LAYOUT: N_("{path} has an unexpected layout: {reason}"),
    ErrorCode.BUNDLE_UNSAFE_MEMBER: N_("{path} contains an unsafe entry: {reason}"),
    ErrorCode.BUNDLE_TOO_LARGE: N_("{path} exceeds a size limit: {reason}"),
    ErrorCode.BUNDLE_MANIFEST_INVALID: N_("The manifest of {path} is invalid: {reason}"),
    ErrorCode.BUNDLE_CHECKSUM_MISMATCH: N_(
        "{path}: the content of {member} does not match its signed checksum."
    ),
    ErrorCode.BUNDLE_SIGNATURE_INVALID: N_(
        "{path}: the signature does not verify; the bundle was altered or signed by another key."
    ),
    ErrorCode.BUNDLE_UNKNOWN_SIGNER: N_(
        "{path} is signed by a device that is not enrolled (key {key_id}); it was quarantined. "
        "Enrol the device in person before importing its bundles."
    ),
    ErrorCode.BUNDLE_REVOKED_SIGNER: N_(
        "{path} is signed by revoked device {label} after its last trusted bundle; "
        "it is held for review."
    ),
    ErrorCode.BUNDLE_DEVICE_MISMATCH: N_(
        "{path} claims device {claimed} but is signed by a different device."
    ),
    ErrorCode.BUNDLE_EQUIVOCATION: N_(
        "ALARM: {path} reuses sequence number {seq} of device {label} with different content. "
        "The device key may be cloned or stolen."
    ),
    ErrorCode.BUNDLE_FORK: N_(
        "ALARM: {path} (bundle {seq} of device {label}) does not continue the chain of bundles "
        "already imported from that device: two different histories exist. The device key may "
        "be cloned or stolen."
    ),
    ErrorCode.BUNDLE_UNSUPPORTED_VERSION: N_("{path} uses an unsupported bundle format: {version}"),
    ErrorCode.BUNDLE_MEMBER_INVALID: N_("{path}: the entry {member} is invalid: {reason}"),
    ErrorCode.BUNDLE_FOREIGN_CLAIM: N_(
        "ALARM: {path} was refused: this bundle claims records of another device ({member}: "
        "{reason}). A device may only send what it recorded itself; nothing was imported. The "
        "signing device {label} may be in the wrong hands."
    ),
    ErrorCode.BUNDLE_SEQ_JUMP: N_(
        "{path} was refused: its number {seq} jumps more than {limit} past the last bundle "
        "imported from device {label} ({last}). Nothing was imported."
    ),
    ErrorCode.NOTHING_TO_EXPORT: N_("Nothing new to export: the organisation has everything."),
    ErrorCode.ORG_NOT_INITIALISED: N_(
        "This profile has no organisation keys; run 'fieldkit org init' first."
    ),
    ErrorCode.ORG_EXISTS: N_("This profile already has organisation keys."),
    ErrorCode.ORG_CARD_INVALID: N_("{path} is not a valid organisation card: {reason}"),
    ErrorCode.NOT_ENROLLED: N_(
        "This device is not enrolled with an organisation; run "
        "'fieldkit enrol org.pub --out device.pub' first."
    ),
    ErrorCode.DEVICE_KEY_INVALID: N_("{path} is not a valid device public key: {reason}"),
    ErrorCode.TRUST_UNKNOWN_DEVICE: N_("No enrolled device matches {device}."),
    ErrorCode.RECEIPT_INVALID: N_("{path} is not a valid receipt for this device: {reason}"),
    ErrorCode.NOT_A_RECEIPT: N_(
        "{path} is not a receipt: a receipt is a file named receipt-….json with its "
        "signature file receipt-….json.minisig next to it."
    ),
    ErrorCode.RECEIPT_SIGNATURE_INVALID: N_(
        "{path}: the receipt's signature does not verify; it was altered or not signed by the "
        "organisation this device is enrolled with."
    ),
    ErrorCode.ORG_KEY_INVALID: N_("{path} is not a valid organisation key file: {reason}"),
    ErrorCode.SECRET_CONFIRMATION_REQUIRED: N_(
        "This writes a secret key to a file in plain form; confirm with --yes."
    ),
    ErrorCode.FOLDER_NOT_FOUND: N_("The destination folder {path} does not exist."),
    ErrorCode.SYNC_URL_INVALID: N_(
        "{url} is not a sync address; write it as https://HOST:PORT (a name or an IP address "
        "and a port, nothing after it)."
    ),
    ErrorCode.SYNC_NOT_CONFIGURED: N_(
        "The organisation card this device has gives no sync address. Ask the coordinator for "
        "a card made with 'fieldkit org public --sync-url', then run 'fieldkit enrol org.pub', "
        "or carry bundles on a stick as before."
    ),
    ErrorCode.ORG_CARD_OTHER_ORG: N_(
        "{path} belongs to another organisation or another organisation key than the one this "
        "device is enrolled with; it was not taken."
    ),
    ErrorCode.SYNC_CONNECT_FAILED: N_(
        "Could not reach the organisation's server at {url}: {reason}. Nothing was lost; run "
        "sync again later or carry the bundle on a stick."
    ),
    ErrorCode.SYNC_CERTIFICATE_MISMATCH: N_(
        "The server at {url} did not present the certificate in the organisation card. Nothing "
        "was sent. Someone may be intercepting the connection, or the server has a new "
        "certificate: ask the coordinator for the current organisation card."
    ),
    ErrorCode.SYNC_BAD_RESPONSE: N_(
        "The server at {url} answered something that is not the fieldkit sync protocol "
        "({reason}). Nothing was marked as delivered."
    ),
    ErrorCode.SYNC_REFUSED: N_("The organisation's server refused bundle {bundle}: {reason}"),
    ErrorCode.SYNC_AUTH_FAILED: N_(
        "The organisation's server does not accept this device: {reason}"
    ),
    ErrorCode.SYNC_RATE_LIMITED: N_(
        "Too many requests from this device; the server asks to wait {seconds} s."
    ),
    ErrorCode.SYNC_UPLOAD_BUSY: N_(
        "Bundle {bundle} is being received on another connection right now; try again in a minute."
    ),
    ErrorCode.SYNC_SERVER_BUSY: N_(
        "The organisation's server is receiving another bundle; try again in {seconds} s."
    ),
    ErrorCode.SYNC_UPLOAD_TOO_LARGE: N_(
        "Bundle {bundle} has {size} bytes, more than the server accepts ({limit} bytes). Carry "
        "it on a stick instead."
    ),
    ErrorCode.SYNC_UPLOAD_MISMATCH: N_(
        "The upload of bundle {bundle} does not fit what was announced: {reason}"
    ),
    ErrorCode.SYNC_LISTEN_FAILED: N_("Could not listen on {address}: {reason}"),
    ErrorCode.HELD_BUNDLE_NOT_FOUND: N_("No held bundle with number {id}."),
    ErrorCode.PROFILE_READ_ONLY: N_(
        "This lawyer's profile is read-only: it holds only what the organisation sent. You can "
        "review it and save the case file as PDF; nothing can be changed or exported from it."
    ),
    ErrorCode.COUNSEL_KEY_INVALID: N_("{path} is not a valid lawyer's key file: {reason}"),
    ErrorCode.COUNSEL_UNKNOWN: N_("No enrolled lawyer matches {counsel}."),
    ErrorCode.COUNSEL_REVOKED: N_(
        "The lawyer {label} was revoked; no package can be sent to that key."
    ),
    ErrorCode.COUNSEL_NOT_ENROLLED: N_(
        "This lawyer's profile is not enrolled with an organisation; run "
        "'fieldkit counsel enrol org.pub --out lawyer.pub' first."
    ),
    ErrorCode.PACKAGE_INVALID: N_(
        "{path} is not a valid case package: {reason}. Nothing was imported."
    ),
    ErrorCode.PACKAGE_TAMPERED: N_(
        "{path} is damaged or was altered ({reason}). Nothing was imported; ask the "
        "organisation for a new copy."
    ),
    ErrorCode.PACKAGE_NOT_ADDRESSED_HERE: N_(
        "{path} is addressed to another lawyer's key, not to this profile. Nothing was "
        "imported; ask the organisation to send the package to your key."
    ),
    ErrorCode.PACKAGE_UNKNOWN_SIGNER: N_(
        "{path} is not signed by the organisation this profile is enrolled with (key {key_id}). "
        "Nothing was imported."
    ),
    ErrorCode.CASE_NOT_FOR_COUNSEL: N_(
        "The case {case} itself may not go to counsel ({reason}); no package was written."
    ),
    ErrorCode.PACKAGE_OUTDATED: N_(
        "{path} is package {seq} of this case, but package {current} is already here; an "
        "earlier package never replaces a later one. Nothing was imported."
    ),
    ErrorCode.REPORT_FAILED: N_("The report could not be written: {reason}"),
    ErrorCode.UNKNOWN_AUDIENCE: N_("Unknown audience '{value}'; choose one of: {choices}"),
    ErrorCode.AUDIENCE_BLOCKED: N_(
        "Not written for {audience}: in interview {interview}, {reason}. Record the "
        "person's new decision in that interview, or choose the internal audience "
        "(the organisation itself)."
    ),
    ErrorCode.EVIDENCE_WITHHELD: N_(
        "Evidence item {id} was not exported for {audience}: {reason}. Nothing was written."
    ),
    ErrorCode.FONT_MISSING: N_("The report font {name} is missing from the installation."),
    ErrorCode.RESOURCES_MISSING: N_(
        "The program's own files (forms, translations, fonts) are missing from {path}. "
        "Reinstall fieldkit."
    ),
}


class TranslatableText(str):
    """A parameter that is itself a message (marked with N_) and is translated when shown."""


class LocalisedText(str):
    """A parameter composed of translated parts; its English text is the string itself."""

    def localise(self, translator: Translates) -> str:
        return str(self)


class FieldkitError(Exception):
    """An expected failure with a code and safe parameters; never carries record content."""

    def __init__(self, code: ErrorCode, **params: Any) -> None:
        self.code = code
        self.params: Mapping[str, Any] = params
        super().__init__(f"{code.value}: {params}" if params else code.value)

    def message(self, translator: Translates | None = None) -> str:
        template = MESSAGES.get(self.code, self.code.value)
        params = dict(self.params)
        if translator is not None:
            template = translator.gettext(template)
            for key, value in params.items():
                if isinstance(value, TranslatableText):
                    params[key] = translator.gettext(value)
                elif isinstance(value, LocalisedText):
                    params[key] = value.localise(translator)
        try:
            return template.format(**params)
        except (KeyError, IndexError, ValueError):
            # A missing parameter must never hide the error itself.
            return f"{template} {dict(self.params)}"

    def to_dict(self, translator: Translates | None = None) -> dict[str, Any]:
        return {
            "code": self.code.value,
            "message": self.message(translator),
            "params": {k: str(v) for k, v in self.params.items()},
        }


class ValidationIssue:
    """One problem found in entered data: a dotted field path and a reason."""

    __slots__ = ("field", "reason")

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason

    def __repr__(self) -> str:
        return f"ValidationIssue({self.field!r}, {self.reason!r})"


class RecordValidationError(FieldkitError):
    """Entered data failed validation; ``issues`` names every field at fault."""

    def __init__(self, issues: list[ValidationIssue]) -> None:
        first = issues[0] if issues else ValidationIssue("record", "invalid")
        super().__init__(ErrorCode.VALIDATION_FAILED, field=first.field, reason=first.reason)
        self.issues = issues

    def message(self, translator: Translates | None = None) -> str:
        lines = []
        for issue in self.issues:
            reason = translator.gettext(issue.reason) if translator else issue.reason
            lines.append(f"{issue.field}: {reason}")
        return "; ".join(lines)
