"""The sync server's TLS certificate: self-signed, pinned by monitors through the card.

The certificate and its private key live in the coordinator profile under ``sync/``. The key is
a PKCS#8 PEM encrypted under a subkey of the profile's master key (``vault.subkey``), so a copy
of the profile folder without the passphrase does not give the key away, and the server can
only start from an unlocked profile. Both files are 0600 in a 0700 folder. No certificate
authority is involved: the organisation card carries the certificate and its SHA-256, and a
monitor accepts exactly that certificate.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.domain.oserrors import os_reason
from fieldkit.storage.fsutil import atomic_write_bytes, make_private_dir
from fieldkit.storage.vault import Vault

SYNC_DIR = "sync"
CERT_NAME = "tls-cert.pem"
KEY_NAME = "tls-key.pem"
KEY_PURPOSE = "sync-tls-key"
# Pinning makes the validity period meaningless; a monitor's clock may be far off, so the
# certificate is valid from the epoch to the last date X.509 can say.
NOT_BEFORE = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
NOT_AFTER = dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC)


@dataclass(frozen=True)
class ServerCertificate:
    cert_path: Path
    key_path: Path
    der: bytes
    key_password: str

    @property
    def sha256(self) -> str:
        return certificate_sha256(self.der)


def certificate_sha256(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


def _paths(vault: Vault) -> tuple[Path, Path]:
    folder = vault.path / SYNC_DIR
    return folder / CERT_NAME, folder / KEY_NAME


def _password(vault: Vault) -> str:
    return vault.subkey(KEY_PURPOSE).hex()


def server_certificate(vault: Vault, *, create: bool = True) -> ServerCertificate | None:
    """The profile's certificate; made on first use when ``create``."""
    cert_path, key_path = _paths(vault)
    if cert_path.exists() and key_path.exists():
        try:
            cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        except (OSError, ValueError) as exc:
            raise FieldkitError(
                ErrorCode.FILE_NOT_READABLE,
                path=str(cert_path),
                reason=os_reason(exc) if isinstance(exc, OSError) else str(exc)[:100],
            ) from None
        return ServerCertificate(
            cert_path, key_path, cert.public_bytes(serialization.Encoding.DER), _password(vault)
        )
    if not create:
        return None
    return _make(vault, cert_path, key_path)


def _make(vault: Vault, cert_path: Path, key_path: Path) -> ServerCertificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fieldkit sync")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    password = _password(vault)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(password.encode("ascii")),
    )
    try:
        make_private_dir(cert_path.parent)
        atomic_write_bytes(key_path, key_pem)
        atomic_write_bytes(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    except OSError as exc:
        raise FieldkitError(
            ErrorCode.FILE_NOT_WRITABLE, path=str(cert_path.parent), reason=os_reason(exc)
        ) from None
    os.chmod(key_path, 0o600)
    return ServerCertificate(
        cert_path, key_path, cert.public_bytes(serialization.Encoding.DER), password
    )


def pinned_client_context(der: bytes) -> ssl.SSLContext:
    """A client context that completes a handshake only with this very certificate.

    The certificate is the only trust anchor and names no host the client could check (the
    address may be an IP, a .onion name or change); pinning the certificate is the check."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = False
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(cadata=der)
    return context
