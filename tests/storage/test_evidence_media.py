"""Embedded metadata, thumbnails and previews, made in the limited subprocess; hostile images."""

from __future__ import annotations

import hashlib
import io
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from PIL import Image

from fieldkit.domain.evidence import (
    CustodyAction,
    ItemType,
    PreviewStatus,
    SensitiveFlag,
    sniff_media_type,
)
from fieldkit.services import media_worker
from fieldkit.services.evidence import EvidenceService
from fieldkit.storage.vault import Vault


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def grey_png(width: int, height: int, extra: bytes = b"", rows: int | None = None) -> bytes:
    """A greyscale PNG built row by row (never the whole bitmap in memory)."""
    compressor = zlib.compressobj(9)
    row = b"\0" * (1 + width)
    parts = [compressor.compress(row) for _ in range(height if rows is None else rows)]
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + extra
        + _chunk(b"IDAT", b"".join(parts))
        + _chunk(b"IEND", b"")
    )


def jpeg_with_exif() -> bytes:
    image = Image.new("RGB", (640, 480), (30, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "FieldCam"
    exif[0x0110] = "FC-2"
    exif[0x0112] = 1
    exif[0x8769] = {0x9003: "2025:03:14 09:26:53", 0xA431: "SN-0042"}
    exif[0x8825] = {1: "N", 2: (50.0, 27.0, 0.0), 3: "W", 4: (30.0, 31.0, 12.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_exif_read_into_sensitive_fields_original_untouched(
    new_vault: Vault, tmp_path: Path
) -> None:
    data = jpeg_with_exif()
    source = tmp_path / "IMG_0001.JPG"
    source.write_bytes(data)
    service = EvidenceService(new_vault)
    item = service.add(source).item
    assert item.media_type == "image/jpeg"
    assert item.item_type == ItemType.PHOTO
    assert item.preview_status == PreviewStatus.OK
    meta = item.embedded_metadata or {}
    assert meta["camera_make"] == "FieldCam"
    assert meta["camera_model"] == "FC-2"
    assert meta["datetime_original"] == "2025:03:14 09:26:53"
    assert meta["serial_number"] == "SN-0042"
    assert meta["gps"]["latitude"] == pytest.approx(50.45)
    assert meta["gps"]["longitude"] == pytest.approx(-30.52)
    assert {SensitiveFlag.GPS, SensitiveFlag.DEVICE_SERIAL, SensitiveFlag.EMBEDDED_METADATA} <= set(
        item.sensitive_flags
    )
    assert item.capture_device == "FieldCam FC-2"
    assert item.content_created_at == "2025:03:14 09:26:53"
    # The original bytes are stored unchanged (metadata is read, never stripped).
    with service.open_original(item.id) as handle:
        assert handle.read() == data
    assert item.sha256 == hashlib.sha256(data).hexdigest()
    thumb = service.thumbnail(item.id)
    assert thumb is not None
    assert thumb[:3] == b"\xff\xd8\xff"
    with Image.open(io.BytesIO(thumb)) as shown:
        assert max(shown.size) <= media_worker.THUMBNAIL_EDGE
    # The larger preview for the viewer; showing it is logged in the custody log.
    preview = service.preview(item.id, purpose="checking the location")
    assert preview is not None
    with Image.open(io.BytesIO(preview)) as shown:
        assert shown.size == (640, 480)  # never larger than the original
    last = service.custody_events(item.id)[-1]
    assert last.action == CustodyAction.VIEWED
    assert last.purpose == "checking the location"


HOSTILE_CASES = {
    # 30000 x 30000 declared in a 100-byte file: refused before any decoding.
    "declared_huge.png": (lambda: grey_png(30000, 30000, rows=1), PreviewStatus.HOSTILE),
    # A real decompression bomb: 121 megapixels of zeros, about 120 kB compressed.
    "bomb.png": (lambda: grey_png(11000, 11000), PreviewStatus.HOSTILE),
    # A compressed text chunk that inflates to 50 MiB.
    "metadata_bomb.png": (
        lambda: grey_png(
            16,
            16,
            extra=_chunk(b"zTXt", b"Comment\0\0" + zlib.compress(b"A" * (50 * 1024 * 1024))),
        ),
        PreviewStatus.HOSTILE,
    ),
    "truncated.jpg": (lambda: jpeg_with_exif()[:2500], PreviewStatus.FAILED),
    "random.jpg": (lambda: os.urandom(20000), PreviewStatus.FAILED),
    "header_only.png": (lambda: grey_png(64, 64)[:40], PreviewStatus.FAILED),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_CASES))
def test_hostile_images_are_stored_hashed_and_reported(
    new_vault: Vault, tmp_path: Path, name: str
) -> None:
    make, expected = HOSTILE_CASES[name]
    data = make()
    source = tmp_path / name
    source.write_bytes(data)
    service = EvidenceService(new_vault)
    result = service.add(source)
    assert result.status == "added"
    assert result.preview is not None
    assert result.preview.status == expected, result.preview
    assert result.preview.reason  # a clear reason for the person adding it
    item = result.item
    assert item.preview_status == expected
    assert item.sha256 == hashlib.sha256(data).hexdigest()
    assert service.thumbnail(item.id) is None
    assert service.preview(item.id) is None
    [verified] = service.verify(item.id)
    assert verified.ok
    with service.open_original(item.id) as handle:
        assert handle.read() == data


def test_worker_limits_memory_and_time() -> None:
    image = grey_png(9000, 9000)
    report, thumb, preview = media_worker.analyse_bytes(image, memory_limit=150 * 1024 * 1024)
    assert report.status == PreviewStatus.HOSTILE
    assert report.reason == media_worker.REASON_MEMORY
    assert thumb is None
    assert preview is None
    report, thumb, preview = media_worker.analyse_bytes(grey_png(10, 10), timeout=0.01)
    assert report.status == PreviewStatus.HOSTILE
    assert report.reason == media_worker.REASON_TIME
    report, thumb, preview = media_worker.analyse_bytes(grey_png(2400, 1200))
    assert report.status == PreviewStatus.OK
    assert thumb
    assert preview
    with Image.open(io.BytesIO(preview)) as shown:
        assert shown.size == (media_worker.PREVIEW_EDGE, media_worker.PREVIEW_EDGE // 2)


def test_worker_cannot_write_files() -> None:
    # The child runs with RLIMIT_FSIZE = 0: even a bug cannot spill plaintext to a file.
    code = (
        "from fieldkit.services.media_worker import _limit_resources as L\n"
        "L(512 * 1024 * 1024, 5)\n"
        "import tempfile\n"
        "try:\n"
        "    f = tempfile.TemporaryFile(); f.write(b'x' * 10); f.flush(); print('wrote')\n"
        "except OSError as e:\n"
        "    print('refused', e.errno)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=30
    )
    assert "wrote" not in result.stdout
    assert "refused" in result.stdout


@pytest.mark.parametrize(
    ("head", "name", "expected"),
    [
        (b"\xff\xd8\xff\xe0\0\x10JFIF", "x.bin", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n\0\0", "x.jpg", "image/png"),
        (b"\0\0\0\x18ftypheic\0\0", "x", "image/heic"),
        (b"\0\0\0\x18ftypisom\0\0", "clip.bin", "video/mp4"),
        (b"\0\0\0\x14ftypqt  \0\0", "clip", "video/quicktime"),
        (b"\0\0\0\x20ftypM4A \0\0", "voice", "audio/mp4"),
        (b"ID3\x04\0\0\0\0", "a", "audio/mpeg"),
        (b"RIFF\0\0\0\0WAVEfmt ", "a", "audio/wav"),
        (b"OggS\0\x02", "a", "audio/ogg"),
        (b"%PDF-1.7\n", "report.txt", "application/pdf"),
        (
            b"PK\x03\x04\x14\0",
            "letter.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (b"PK\x03\x04\x14\0", "archive.bin", "application/zip"),
        ("Свідчення W-017\n".encode(), "notes", "text/plain"),
        (b"\0\x01\x02\x03binary", "notes.txt", "application/octet-stream"),
        (b"", "x.heic", "image/heic"),
    ],
)
def test_media_type_from_magic_bytes(head: bytes, name: str, expected: str) -> None:
    assert sniff_media_type(head, name) == expected
