"""Organisation keys, enrolment and the trust list.

Coordinator: ``init_org`` makes the organisation's Ed25519 signing key and X25519 (age) decryption
identity; ``write_card`` writes the signed card that monitors take home; ``export_identity``
writes the decryption identity in age's own format; ``add_device``, ``list_devices`` and
``revoke_device`` keep the trust list. Monitor: ``enrol`` stores the card and writes the
device's public key in minisign format. Both sides print the same comparison code, for two
people to compare in person.

The parts: ``card`` (the signed card and small key files), ``org_keys`` (coordinator keys),
``enrolling`` (monitor side) and ``devices`` (the trust list). Callers import from here.
"""

from fieldkit.services.trust.card import (
    CARD_CONTEXT,
    CARD_FORMAT,
    MAX_CARD_BYTES,
    MAX_KEY_FILE_BYTES,
    OrgCard,
    SyncEndpoint,
    check_sync_url,
    parse_card,
)
from fieldkit.services.trust.devices import (
    DEVICE_COMMENT_PREFIX,
    MAX_DEVICE_KEY_BYTES,
    DeviceInfo,
    add_device,
    find_device,
    list_devices,
    parse_device_pub,
    revoke_device,
    signer_for_key,
)
from fieldkit.services.trust.enrolling import (
    EnrolmentInfo,
    EnrolResult,
    device_pub_text,
    device_public_key,
    enrol,
    enrolled_card,
    enrolment,
    store_enrolment,
    take_newer_card,
    withdraw_enrolment,
)
from fieldkit.services.trust.org_keys import (
    PUBLISHED_CARD,
    SIGNING_KEY_COMMENT,
    OrgInfo,
    card_bytes,
    export_identity,
    export_signing_key,
    import_org,
    init_org,
    org_identities,
    org_info,
    org_public_key,
    org_signing_key,
    published_card,
    signing_public_text,
    write_card,
)

__all__ = [
    "CARD_CONTEXT",
    "CARD_FORMAT",
    "DEVICE_COMMENT_PREFIX",
    "DeviceInfo",
    "EnrolResult",
    "EnrolmentInfo",
    "MAX_CARD_BYTES",
    "MAX_DEVICE_KEY_BYTES",
    "MAX_KEY_FILE_BYTES",
    "OrgCard",
    "OrgInfo",
    "PUBLISHED_CARD",
    "SIGNING_KEY_COMMENT",
    "SyncEndpoint",
    "add_device",
    "card_bytes",
    "check_sync_url",
    "device_pub_text",
    "device_public_key",
    "enrol",
    "enrolled_card",
    "enrolment",
    "export_identity",
    "export_signing_key",
    "find_device",
    "import_org",
    "init_org",
    "list_devices",
    "org_identities",
    "org_info",
    "org_public_key",
    "org_signing_key",
    "parse_card",
    "parse_device_pub",
    "published_card",
    "revoke_device",
    "signer_for_key",
    "signing_public_text",
    "store_enrolment",
    "take_newer_card",
    "withdraw_enrolment",
    "write_card",
]
