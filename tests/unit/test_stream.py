"""The chunked file format: exact round trips and every kind of tampering."""

from __future__ import annotations

import hashlib
import io
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fieldkit.crypto import stream
from fieldkit.crypto.stream import (
    CHUNK_SIZE,
    HEADER_SIZE,
    SEALED_CHUNK,
    StreamAuthError,
    StreamFormatError,
    StreamReader,
    StreamTruncatedError,
    StreamWriter,
    decrypt_stream,
    encrypt_stream,
    new_dek,
    open_stream,
    plaintext_size,
    sealed_size,
)

SIZES = [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 2 * CHUNK_SIZE, 37 * CHUNK_SIZE + 123]


def seal(data: bytes, dek: bytes) -> bytes:
    out = io.BytesIO()
    encrypt_stream(io.BytesIO(data), out, dek)
    return out.getvalue()


def unseal(blob: bytes, dek: bytes) -> bytes:
    out = io.BytesIO()
    decrypt_stream(io.BytesIO(blob), out, dek)
    return out.getvalue()


class NonSeekable(io.RawIOBase):
    def __init__(self, data: bytes) -> None:
        self._inner = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, b):  # type: ignore[no-untyped-def]
        # Hand out short reads to exercise the exact-read loops.
        data = self._inner.read(min(len(b), 5000))
        b[: len(data)] = data
        return len(data)


@pytest.mark.parametrize("size", SIZES)
def test_round_trip_exact(size: int) -> None:
    data = os.urandom(size)
    dek = new_dek()
    blob = seal(data, dek)
    assert len(blob) == sealed_size(size)
    assert plaintext_size(len(blob)) == size
    assert unseal(blob, dek) == data
    # Non-seekable source with short reads gives the same bytes.
    reader = StreamReader(NonSeekable(blob), dek)  # type: ignore[arg-type]
    assert reader.readall() == data


@pytest.mark.parametrize("size", SIZES)
def test_writer_with_odd_write_sizes(size: int) -> None:
    data = os.urandom(size)
    dek = new_dek()
    out = io.BytesIO()
    writer = StreamWriter(out, dek)
    pos = 0
    step = 1
    while pos < size:
        writer.write(data[pos : pos + step])
        pos += step
        step = step * 3 + 7
    writer.finish()
    assert unseal(out.getvalue(), dek) == data


@settings(max_examples=30, deadline=None)
@given(st.binary(max_size=3 * CHUNK_SIZE + 10))
def test_round_trip_property(data: bytes) -> None:
    dek = new_dek()
    assert unseal(seal(data, dek), dek) == data


def test_ciphertext_hides_plaintext_and_differs_each_time() -> None:
    data = b"W-017 marker " * 10000
    dek = new_dek()
    a, b = seal(data, dek), seal(data, dek)
    assert a != b  # fresh nonce and file id per file
    assert b"W-017" not in a
    assert a[:8] == b"FKSTREAM"


def test_flipped_byte_anywhere_is_detected() -> None:
    data = os.urandom(3 * CHUNK_SIZE + 5)
    dek = new_dek()
    blob = seal(data, dek)
    for position in (HEADER_SIZE - 1, HEADER_SIZE, HEADER_SIZE + SEALED_CHUNK + 7, len(blob) - 1):
        tampered = bytearray(blob)
        tampered[position] ^= 0x01
        with pytest.raises(StreamAuthError):
            unseal(bytes(tampered), dek)
    # The header fields: file id, nonce.
    for position in (12, 30):
        tampered = bytearray(blob)
        tampered[position] ^= 0x80
        with pytest.raises(StreamAuthError) as info:
            unseal(bytes(tampered), dek)
        assert info.value.chunk == 0


def test_bad_magic_version_reserved() -> None:
    dek = new_dek()
    blob = bytearray(seal(b"abc", dek))
    with pytest.raises(StreamFormatError, match="not a fieldkit"):
        unseal(b"GIF89a" + bytes(blob[6:]), dek)
    bad_version = bytearray(blob)
    bad_version[8] = 2
    with pytest.raises(StreamFormatError, match="version 2"):
        unseal(bytes(bad_version), dek)
    bad_reserved = bytearray(blob)
    bad_reserved[10] = 1
    with pytest.raises(StreamFormatError, match="reserved"):
        unseal(bytes(bad_reserved), dek)


def test_wrong_key_fails() -> None:
    blob = seal(b"x" * 100, new_dek())
    with pytest.raises(StreamAuthError):
        unseal(blob, new_dek())


@pytest.mark.parametrize("cut_chunks", [1, 2])
def test_truncated_at_chunk_boundary_is_reported_as_truncated(cut_chunks: int) -> None:
    data = os.urandom(4 * CHUNK_SIZE)
    dek = new_dek()
    blob = seal(data, dek)
    cut = blob[: len(blob) - cut_chunks * SEALED_CHUNK]
    with pytest.raises(StreamTruncatedError):
        unseal(cut, dek)


@pytest.mark.parametrize("cut", [1, 15, 16, 17, SEALED_CHUNK - 1])
def test_truncated_inside_a_chunk(cut: int) -> None:
    data = os.urandom(2 * CHUNK_SIZE + 100)
    dek = new_dek()
    blob = seal(data, dek)
    with pytest.raises(StreamAuthError):
        unseal(blob[:-cut], dek)


def test_truncated_inside_header() -> None:
    dek = new_dek()
    blob = seal(b"", dek)
    for n in (0, 5, 20, HEADER_SIZE, HEADER_SIZE + 15):
        with pytest.raises((StreamTruncatedError, StreamFormatError)):
            unseal(blob[:n], dek)


def test_empty_file_without_final_chunk_is_truncated() -> None:
    dek = new_dek()
    blob = seal(b"", dek)
    assert len(blob) == HEADER_SIZE + 16
    with pytest.raises(StreamTruncatedError):
        unseal(blob[:HEADER_SIZE], dek)


def test_swapped_chunks_detected() -> None:
    data = os.urandom(3 * CHUNK_SIZE + 1)
    dek = new_dek()
    blob = seal(data, dek)
    first = blob[HEADER_SIZE : HEADER_SIZE + SEALED_CHUNK]
    second = blob[HEADER_SIZE + SEALED_CHUNK : HEADER_SIZE + 2 * SEALED_CHUNK]
    swapped = blob[:HEADER_SIZE] + second + first + blob[HEADER_SIZE + 2 * SEALED_CHUNK :]
    with pytest.raises(StreamAuthError) as info:
        unseal(swapped, dek)
    assert info.value.chunk == 0


def test_dropped_middle_chunk_detected() -> None:
    data = os.urandom(3 * CHUNK_SIZE + 1)
    dek = new_dek()
    blob = seal(data, dek)
    dropped = blob[: HEADER_SIZE + SEALED_CHUNK] + blob[HEADER_SIZE + 2 * SEALED_CHUNK :]
    with pytest.raises(StreamAuthError) as info:
        unseal(dropped, dek)
    assert info.value.chunk == 1


def test_chunk_spliced_from_another_file_under_the_same_dek_fails() -> None:
    # Even with the same DEK, each file has its own nonce and file id, hence its own payload key.
    dek = new_dek()
    a = seal(os.urandom(2 * CHUNK_SIZE + 9), dek)
    b = seal(os.urandom(2 * CHUNK_SIZE + 9), dek)
    spliced = a[: HEADER_SIZE + SEALED_CHUNK] + b[HEADER_SIZE + SEALED_CHUNK :]
    with pytest.raises(StreamAuthError) as info:
        unseal(spliced, dek)
    assert info.value.chunk == 1
    # The same chunk of b placed in a's header also fails at chunk 0.
    with pytest.raises(StreamAuthError):
        unseal(a[:HEADER_SIZE] + b[HEADER_SIZE:], dek)


def test_trailing_data_after_final_chunk_rejected() -> None:
    dek = new_dek()
    data = os.urandom(CHUNK_SIZE)
    blob = seal(data, dek)
    with pytest.raises(StreamAuthError):
        unseal(blob + b"\0" * 10, dek)
    # Appending a whole copy of the final chunk is caught too.
    with pytest.raises(StreamAuthError, match="after the final chunk"):
        unseal(blob + blob[HEADER_SIZE:], dek)


def test_expected_file_id_is_checked() -> None:
    dek = new_dek()
    out = io.BytesIO()
    writer = StreamWriter(out, dek, file_id=b"\x01" * 16)
    writer.write(b"abc")
    writer.finish()
    out.seek(0)
    with pytest.raises(StreamFormatError):
        StreamReader(out, dek, expected_file_id=b"\x02" * 16)
    out.seek(0)
    assert StreamReader(out, dek, expected_file_id=b"\x01" * 16).read() == b"abc"


def test_random_access_reads_match() -> None:
    data = os.urandom(5 * CHUNK_SIZE + 333)
    dek = new_dek()
    reader = StreamReader(io.BytesIO(seal(data, dek)), dek)
    assert reader.seekable()
    assert reader.size == len(data)
    for pos, n in [
        (0, 10),
        (CHUNK_SIZE - 3, 10),
        (4 * CHUNK_SIZE, CHUNK_SIZE + 100),
        (len(data) - 5, 100),
        (len(data), 5),
        (7, 3 * CHUNK_SIZE),
    ]:
        assert reader.seek(pos) == pos
        assert reader.read(n) == data[pos : pos + n]
        assert reader.tell() == min(pos + n, len(data))
    assert reader.seek(-10, os.SEEK_END) == len(data) - 10
    assert reader.read() == data[-10:]


def test_buffered_reader_streams_in_pieces() -> None:
    data = os.urandom(3 * CHUNK_SIZE + 17)
    dek = new_dek()
    with open_stream(io.BytesIO(seal(data, dek)), dek) as handle:
        digest = hashlib.sha256()
        while piece := handle.read(10_000):
            digest.update(piece)
    assert digest.hexdigest() == hashlib.sha256(data).hexdigest()


def test_truncation_in_random_access_caught_at_the_end() -> None:
    data = os.urandom(3 * CHUNK_SIZE)
    dek = new_dek()
    blob = seal(data, dek)
    reader = StreamReader(io.BytesIO(blob[:-SEALED_CHUNK]), dek)
    assert reader.read(100) == data[:100]  # earlier chunks are genuine
    with pytest.raises(StreamTruncatedError):
        reader.read()


def test_plaintext_size_rejects_impossible_lengths() -> None:
    with pytest.raises(StreamTruncatedError):
        plaintext_size(HEADER_SIZE + 5)
    with pytest.raises(StreamTruncatedError):
        plaintext_size(HEADER_SIZE + SEALED_CHUNK + 3)
    assert plaintext_size(HEADER_SIZE + 16) == 0
    assert stream.sealed_size(CHUNK_SIZE) == HEADER_SIZE + SEALED_CHUNK


def test_dek_length_checked() -> None:
    with pytest.raises(ValueError):
        StreamWriter(io.BytesIO(), b"short")


@settings(max_examples=200, deadline=None)
@given(
    st.data(),
    st.integers(min_value=0, max_value=3 * CHUNK_SIZE + 50),
)
def test_any_damage_is_an_error_never_wrong_bytes(data: st.DataObject, size: int) -> None:
    """Flips, cuts and insertions anywhere: either a StreamError or (never) silently other bytes."""
    plaintext = bytes(range(256)) * (size // 256) + bytes(size % 256)
    dek = b"\x07" * 32
    blob = bytearray(seal(plaintext, dek))
    kind = data.draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
    position = data.draw(st.integers(min_value=0, max_value=len(blob) - 1))
    if kind == "flip":
        blob[position] ^= data.draw(st.integers(min_value=1, max_value=255))
    elif kind == "cut":
        del blob[position:]
    elif kind == "insert":
        blob[position:position] = data.draw(st.binary(min_size=1, max_size=40))
    else:
        del blob[position : position + data.draw(st.integers(min_value=1, max_value=40))]
    with pytest.raises(stream.StreamError):
        unseal(bytes(blob), dek)
