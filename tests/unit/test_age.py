"""age v1: interoperability both ways with the real `age` program, and one exception per failure."""

from __future__ import annotations

import io
import os
import subprocess
from pathlib import Path

import pytest

from fieldkit.crypto.age import (
    CHUNK_SIZE,
    AgeEncryptWriter,
    AgeHeaderTamperedError,
    AgeKeyError,
    AgeNoIdentityError,
    AgeNotAgeFileError,
    AgePayloadTamperedError,
    AgeTruncatedError,
    X25519Identity,
    X25519Recipient,
    bech32_decode,
    bech32_encode,
    encrypt_bytes,
    identity_file_text,
    parse_identity_file,
)
from fieldkit.crypto.age_read import AgeDecryptReader, decrypt_bytes
from tests.helpers import require_tool

SIZES = [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 2 * CHUNK_SIZE, 3 * CHUNK_SIZE + 7]


def header_end(data: bytes) -> int:
    return data.index(b"\n", data.index(b"\n--- ") + 1) + 1


@pytest.mark.parametrize("size", SIZES)
def test_round_trip(size: int) -> None:
    identity = X25519Identity.generate()
    data = os.urandom(size)
    assert decrypt_bytes(encrypt_bytes(data, [identity.recipient]), [identity]) == data


def test_writes_of_any_size_give_the_same_plaintext() -> None:
    identity = X25519Identity.generate()
    data = os.urandom(5 * CHUNK_SIZE + 123)
    out = io.BytesIO()
    writer = AgeEncryptWriter(out, [identity.recipient])
    pos = 0
    for step in [1, 7, CHUNK_SIZE, 3, 2 * CHUNK_SIZE + 5, 10_000_000]:
        writer.write(data[pos : pos + step])
        pos += step
    writer.close()
    reader = AgeDecryptReader(io.BytesIO(out.getvalue()), [identity])
    got = bytearray()
    while chunk := reader.read(1000):
        got += chunk
    assert bytes(got) == data


def test_keys_round_trip_and_match_the_age_encoding() -> None:
    identity = X25519Identity.generate()
    text = str(identity)
    assert text.startswith("AGE-SECRET-KEY-1")
    assert text == text.upper()
    assert X25519Identity.parse(text).recipient == identity.recipient
    recipient = str(identity.recipient)
    assert recipient.startswith("age1")
    assert X25519Recipient.parse(recipient) == identity.recipient
    assert bech32_decode(bech32_encode("age", b"\x01" * 32)) == ("age", b"\x01" * 32)
    file_text = identity_file_text(identity, "2026-01-01T00:00:00Z")
    assert parse_identity_file(file_text)[0].recipient == identity.recipient
    for bad in ["age1qqqq", recipient[:-1] + ("q" if recipient[-1] != "q" else "p"), "x" * 60]:
        with pytest.raises(AgeKeyError):
            X25519Recipient.parse(bad)


def test_multiple_recipients_each_can_decrypt() -> None:
    ids = [X25519Identity.generate() for _ in range(3)]
    data = os.urandom(1000)
    enc = encrypt_bytes(data, [i.recipient for i in ids])
    for identity in ids:
        reader = AgeDecryptReader(io.BytesIO(enc), [X25519Identity.generate(), identity])
        assert reader.read() == data
        assert reader.matched_recipient == identity.recipient


def test_not_an_age_file() -> None:
    with pytest.raises(AgeNotAgeFileError):
        decrypt_bytes(b"PK\x03\x04 zip file", [X25519Identity.generate()])
    with pytest.raises(AgeNotAgeFileError):
        decrypt_bytes(b"age-encryption.org/v1\n->  X25519\n\n", [X25519Identity.generate()])
    with pytest.raises(AgeHeaderTamperedError):
        decrypt_bytes(b"age-encryption.org/v1\n-> X25519\n\n--- x\n", [X25519Identity.generate()])


def test_wrong_recipient() -> None:
    enc = encrypt_bytes(b"secret", [X25519Identity.generate().recipient])
    with pytest.raises(AgeNoIdentityError):
        decrypt_bytes(enc, [X25519Identity.generate()])


def test_header_tampered() -> None:
    identity = X25519Identity.generate()
    one = encrypt_bytes(b"x", [identity.recipient, X25519Identity.generate().recipient])
    # swap the order of the two stanzas: each still unwraps, the MAC no longer matches
    head = one[: header_end(one)]
    lines = head.split(b"\n")
    swapped = b"\n".join([lines[0], lines[3], lines[4], lines[1], lines[2], *lines[5:]])
    with pytest.raises(AgeHeaderTamperedError):
        decrypt_bytes(swapped + one[header_end(one) :], [identity])


@pytest.mark.parametrize("size", [0, 10, CHUNK_SIZE, 2 * CHUNK_SIZE + 5])
def test_truncation(size: int) -> None:
    identity = X25519Identity.generate()
    enc = encrypt_bytes(os.urandom(size), [identity.recipient])
    end = header_end(enc)
    for cut in (5, end - 3, end, end + 10):
        with pytest.raises(AgeTruncatedError):
            decrypt_bytes(enc[:cut], [identity])
    if size > CHUNK_SIZE:
        with pytest.raises(AgeTruncatedError):
            decrypt_bytes(enc[: end + 16 + CHUNK_SIZE + 16], [identity])


def test_payload_tampered_and_trailing_data() -> None:
    identity = X25519Identity.generate()
    enc = bytearray(encrypt_bytes(os.urandom(3 * CHUNK_SIZE), [identity.recipient]))
    for pos in (header_end(enc) + 20, len(enc) // 2, len(enc) - 1):
        bad = bytearray(enc)
        bad[pos] ^= 1
        with pytest.raises(AgePayloadTamperedError):
            decrypt_bytes(bytes(bad), [identity])
    with pytest.raises((AgePayloadTamperedError, AgeTruncatedError)):
        decrypt_bytes(bytes(enc) + b"more", [identity])


def test_swapped_chunks_are_refused() -> None:
    identity = X25519Identity.generate()
    enc = encrypt_bytes(os.urandom(3 * CHUNK_SIZE), [identity.recipient])
    start = header_end(enc) + 16
    size = CHUNK_SIZE + 16
    c0, c1 = enc[start : start + size], enc[start + size : start + 2 * size]
    swapped = enc[:start] + c1 + c0 + enc[start + 2 * size :]
    with pytest.raises(AgePayloadTamperedError):
        decrypt_bytes(swapped, [identity])


@pytest.mark.tools
@pytest.mark.parametrize("size", SIZES)
def test_the_age_program_reads_what_we_write(tmp_path: Path, size: int) -> None:
    age = require_tool("age")
    identities = [X25519Identity.generate() for _ in range(2)]
    key = tmp_path / "key.txt"
    key.write_text(identity_file_text(identities[1], "2026-01-01T00:00:00Z"))
    data = os.urandom(size)
    enc = encrypt_bytes(data, [i.recipient for i in identities])
    result = subprocess.run(
        [age, "-d", "-i", str(key)], input=enc, capture_output=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == data


@pytest.mark.tools
@pytest.mark.parametrize("size", SIZES)
def test_we_read_what_the_age_program_writes(tmp_path: Path, size: int) -> None:
    age = require_tool("age")
    keygen = require_tool("age-keygen")
    key = tmp_path / "key.txt"
    subprocess.run([keygen, "-o", str(key)], check=True, capture_output=True)
    identities = parse_identity_file(key.read_text())
    other = X25519Identity.generate()
    data = os.urandom(size)
    enc = subprocess.run(
        [age, "-r", str(other.recipient), "-r", str(identities[0].recipient)],
        input=data,
        capture_output=True,
        check=True,
    ).stdout
    assert decrypt_bytes(enc, identities) == data
    assert decrypt_bytes(enc, [other]) == data


@pytest.mark.tools
def test_the_age_program_detects_our_truncation_too(tmp_path: Path) -> None:
    age = require_tool("age")
    identity = X25519Identity.generate()
    key = tmp_path / "key.txt"
    key.write_text(identity_file_text(identity, "2026-01-01T00:00:00Z"))
    enc = encrypt_bytes(os.urandom(2 * CHUNK_SIZE + 5), [identity.recipient])
    cut = enc[: header_end(enc) + 16 + CHUNK_SIZE + 16]
    result = subprocess.run([age, "-d", "-i", str(key)], input=cut, capture_output=True)
    assert result.returncode != 0


def test_an_all_zero_shared_secret_is_a_header_failure() -> None:
    """The age spec: a share whose X25519 result is all zeros (a low-order point) must fail the
    header, whatever identities the reader holds; it is not 'no identity'."""
    identity = X25519Identity.generate()
    good = encrypt_bytes(b"x", [identity.recipient])
    head = good[: header_end(good)]
    lines = head.split(b"\n")
    stanza = lines[1].split(b" ")
    low_order = bytes(32)  # the zero point: every scalar times it is zero
    from fieldkit.crypto.age import b64encode_raw

    stanza[2] = b64encode_raw(low_order).encode()
    forged = b"\n".join([lines[0], b" ".join(stanza), *lines[2:]]) + good[header_end(good) :]
    with pytest.raises(AgeHeaderTamperedError):
        decrypt_bytes(forged, [identity])


def _read_in_blocks(enc: bytes, identity: X25519Identity, block: int) -> bytes:
    reader = AgeDecryptReader(io.BytesIO(enc), [identity])
    got = bytearray()
    while piece := reader.read(block):
        assert len(piece) <= block
        got += piece
    return bytes(got)


@pytest.mark.parametrize("block", [2 * CHUNK_SIZE, 16 * CHUNK_SIZE, 16 * CHUNK_SIZE + 1, 1 << 24])
def test_large_reads_decrypt_many_chunks_at_once_with_the_same_checks(block: int) -> None:
    identity = X25519Identity.generate()
    for size in (0, 1, CHUNK_SIZE, 16 * CHUNK_SIZE, 16 * CHUNK_SIZE + 1, 33 * CHUNK_SIZE - 3):
        data = os.urandom(size)
        enc = encrypt_bytes(data, [identity.recipient])
        assert _read_in_blocks(enc, identity, block) == data
        end = header_end(enc) + 16
        sealed = CHUNK_SIZE + 16
        if size > CHUNK_SIZE:
            # cut at a chunk boundary inside a batch: the last chunk left has no final flag
            with pytest.raises(AgeTruncatedError):
                _read_in_blocks(enc[: end + sealed], identity, block)
            # a flipped byte in a later chunk of the same batch refuses the whole read
            bad = bytearray(enc)
            bad[end + sealed + 5] ^= 1
            with pytest.raises(AgePayloadTamperedError):
                _read_in_blocks(bytes(bad), identity, block)
        with pytest.raises((AgePayloadTamperedError, AgeTruncatedError)):
            _read_in_blocks(enc + b"more", identity, block)
