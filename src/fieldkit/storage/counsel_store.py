"""The lawyer's copy of what case packages delivered: rows in ``counsel_items``, originals in
their own encrypted file store (``<profile>/packages``), each under its own key wrapped with a
key derived from the profile's master key.

The records and evidence tables are append-only histories; this store is not, because a later
package may take material back (a consent withdrawn): then the row and its file are deleted.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable
from typing import BinaryIO, cast

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from fieldkit.crypto.stream import CHUNK_SIZE, StreamError, StreamReader
from fieldkit.domain.errors import N_, ErrorCode, FieldkitError, TranslatableText
from fieldkit.storage.evidence import CleanupReport, FileStore, SealedFile
from fieldkit.storage.tables.counsel import CounselItemRow
from fieldkit.storage.vault import Vault

KEY_PURPOSE = "counsel-store"
_WRAP_INFO = b"fieldkit/counsel-item-key/v1|"


class CounselStore:
    def __init__(self, vault: Vault) -> None:
        self.vault = vault
        self.files = FileStore(vault.path / "packages")

    def _aad(self, item_id: str, storage_name: str) -> bytes:
        return _WRAP_INFO + item_id.encode() + b"|" + storage_name.encode()

    def wrap(self, item_id: str, sealed: SealedFile) -> bytes:
        nonce = os.urandom(12)
        aead = AESGCM(self.vault.subkey(KEY_PURPOSE))
        return nonce + aead.encrypt(nonce, sealed.dek, self._aad(item_id, sealed.storage_name))

    def open_item(self, row: CounselItemRow) -> io.BufferedReader:
        """The decrypted original; each chunk is authenticated as it is read."""
        if row.storage_name is None or row.wrapped_dek is None or row.file_id is None:
            raise FieldkitError(ErrorCode.EVIDENCE_MISSING_FILE, id=row.item_id)
        blob = bytes(row.wrapped_dek)
        aead = AESGCM(self.vault.subkey(KEY_PURPOSE))
        try:
            dek = aead.decrypt(blob[:12], blob[12:], self._aad(row.item_id, row.storage_name))
        except (InvalidTag, ValueError):
            raise FieldkitError(
                ErrorCode.EVIDENCE_TAMPERED,
                id=row.item_id,
                reason=TranslatableText(N_("its key does not unwrap")),
            ) from None
        try:
            raw = self.files.open_raw(row.storage_name)
        except FileNotFoundError:
            raise FieldkitError(ErrorCode.EVIDENCE_MISSING_FILE, id=row.item_id) from None
        try:
            reader = StreamReader(raw, dek, expected_file_id=bytes(row.file_id), close_source=True)
        except StreamError as exc:
            raw.close()
            raise FieldkitError(
                ErrorCode.EVIDENCE_TAMPERED, id=row.item_id, reason=TranslatableText(exc.reason)
            ) from exc
        return io.BufferedReader(reader, buffer_size=CHUNK_SIZE)

    def copy(self, sealed: SealedFile) -> SealedFile:
        """A second file with the same content as ``sealed`` (its own key and name)."""
        raw = self.files.open_raw(sealed.storage_name)
        with StreamReader(raw, sealed.dek, expected_file_id=sealed.file_id, close_source=True) as r:
            return self.files.write(
                cast(BinaryIO, io.BufferedReader(r, buffer_size=CHUNK_SIZE)), total=sealed.size
            )

    @staticmethod
    def remove_rows(session: Session, item_ids: Iterable[str]) -> list[str]:
        """Delete rows inside the caller's transaction; returns the file names to delete after
        the commit (:meth:`delete_files`)."""
        ids = list(item_ids)
        names: list[str] = []
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            names.extend(
                n
                for n in session.execute(
                    select(CounselItemRow.storage_name).where(CounselItemRow.item_id.in_(chunk))
                ).scalars()
                if n is not None
            )
            session.execute(delete(CounselItemRow).where(CounselItemRow.item_id.in_(chunk)))
        return names

    def delete_files(self, names: Iterable[str]) -> None:
        for name in names:
            self.files.delete(name)

    def cleanup(self) -> CleanupReport:
        """Start-up clean-up: partial files and files no row names (an interrupted import)."""

        def live() -> set[str]:
            with self.vault.session() as session:
                return {
                    n
                    for n in session.execute(select(CounselItemRow.storage_name)).scalars()
                    if n is not None
                }

        return self.files.cleanup(live)
