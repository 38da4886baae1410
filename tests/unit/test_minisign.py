"""minisign: interoperability both ways with the real `minisign` program, and refusals."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fieldkit.crypto.minisign import (
    MinisignFormatError,
    MinisignKeyMismatchError,
    MinisignPublicKey,
    MinisignSignature,
    MinisignVerifyError,
    sign,
    verify,
)
from tests.helpers import require_tool


def test_sign_and_verify_round_trip() -> None:
    key = Ed25519PrivateKey.generate()
    public = MinisignPublicKey.from_ed25519(key.public_key())
    sig = sign(key, [b"hello ", b"world"], trusted_comment="bundle=1 seq=2")
    parsed = MinisignSignature.parse(sig.file_bytes())
    verify(public, parsed, b"hello world")
    assert parsed.trusted_comment == "bundle=1 seq=2"
    assert MinisignPublicKey.parse(public.file_text()) == public


def test_refusals() -> None:
    key = Ed25519PrivateKey.generate()
    public = MinisignPublicKey.from_ed25519(key.public_key())
    sig = sign(key, b"message", trusted_comment="ok")
    with pytest.raises(MinisignVerifyError):
        verify(public, sig, b"messagE")
    edited = MinisignSignature.parse(
        sig.file_bytes().replace(b"trusted comment: ok", b"trusted comment: ko")
    )
    with pytest.raises(MinisignVerifyError):
        verify(public, edited, b"message")
    other = MinisignPublicKey.from_ed25519(Ed25519PrivateKey.generate().public_key())
    with pytest.raises(MinisignKeyMismatchError):
        verify(other, sig, b"message")
    for bad in [
        b"",
        b"x" * 5000,
        b"untrusted comment: a\nAAAA\ntrusted comment: b\nAAAA\n",
        b"\xff\n",
    ]:
        with pytest.raises(MinisignFormatError):
            MinisignSignature.parse(bad)
    with pytest.raises(MinisignFormatError):
        sign(key, b"m", trusted_comment="two\nlines")


@pytest.mark.tools
def test_minisign_verifies_what_we_sign(tmp_path: Path) -> None:
    minisign = require_tool("minisign")
    key = Ed25519PrivateKey.generate()
    public = MinisignPublicKey.from_ed25519(key.public_key())
    message = tmp_path / "SHA256SUMS"
    message.write_bytes(b"0" * 64 + b"  manifest.json\n")
    (tmp_path / "dev.pub").write_text(public.file_text())
    sig = sign(key, message.read_bytes(), trusted_comment="fieldkit-bundle/1 seq=7")
    (tmp_path / "SHA256SUMS.minisig").write_bytes(sig.file_bytes())
    result = subprocess.run(
        [minisign, "-V", "-p", str(tmp_path / "dev.pub"), "-m", str(message)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "fieldkit-bundle/1 seq=7" in result.stdout
    message.write_bytes(b"1" + message.read_bytes()[1:])
    result = subprocess.run(
        [minisign, "-V", "-p", str(tmp_path / "dev.pub"), "-m", str(message)], capture_output=True
    )
    assert result.returncode != 0


@pytest.mark.tools
def test_we_verify_what_minisign_signs(tmp_path: Path) -> None:
    minisign = require_tool("minisign")
    pub, sec = tmp_path / "m.pub", tmp_path / "m.key"
    subprocess.run(
        [minisign, "-G", "-W", "-p", str(pub), "-s", str(sec)], check=True, capture_output=True
    )
    message = tmp_path / "file.bin"
    message.write_bytes(b"\x00\x01" * 50_000)
    subprocess.run(
        [minisign, "-S", "-s", str(sec), "-m", str(message), "-t", "made by minisign"],
        check=True,
        capture_output=True,
    )
    public = MinisignPublicKey.parse(pub.read_text())
    # minisign prints the id without leading zeros ("…public key 2125DF7D13466F3"); compare values.
    comment = pub.read_text().splitlines()[0]
    assert int(comment.rsplit(" ", 1)[1], 16) == int(public.id_hex, 16)
    sig = MinisignSignature.parse((tmp_path / "file.bin.minisig").read_bytes())
    assert sig.trusted_comment == "made by minisign"
    verify(public, sig, message.read_bytes())
    with pytest.raises(MinisignVerifyError):
        verify(public, sig, message.read_bytes() + b"x")


# --- secret key files ----------------------------------------------------------------------------


def test_secret_key_file_round_trip_and_signs() -> None:
    from fieldkit.crypto.minisign import MinisignSecretKey, secret_key_file_text

    key = Ed25519PrivateKey.generate()
    text = secret_key_file_text(key, "fieldkit test key W-017 «ключ»")
    assert text.count("\n") == 2  # one comment line, one key line
    with pytest.raises(MinisignFormatError):
        secret_key_file_text(key, "a comment\nthat would add a line")
    parsed = MinisignSecretKey.parse(text.encode())
    assert parsed.public == MinisignPublicKey.from_ed25519(key.public_key())
    sig = sign(parsed.private_key, b"receipt", trusted_comment="t")
    verify(parsed.public, MinisignSignature.parse(sig.file_bytes()), b"receipt")


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda raw: raw[:2] + b"Sc" + raw[4:], "password"),
        (lambda raw: raw[:4] + b"XX" + raw[6:], "unsupported"),
        (lambda raw: raw[:60] + bytes([raw[60] ^ 1]) + raw[61:], "checksum"),
        (lambda raw: raw[:-1], "not an Ed25519"),
        (lambda raw: b"ED" + raw[2:], "not an Ed25519"),
        # a consistent checksum over a public half that does not belong to the seed
        (None, "halves"),
    ],
)
def test_secret_key_file_refusals(mutate: object, reason: str) -> None:
    import base64
    import hashlib

    from fieldkit.crypto.minisign import MinisignSecretKey, secret_key_file_text

    key = Ed25519PrivateKey.generate()
    comment, line = secret_key_file_text(key, "k").splitlines()
    raw = base64.b64decode(line)
    if mutate is None:
        other = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
        body = raw[54:62] + raw[62:94] + other
        raw = raw[:54] + body + hashlib.blake2b(b"Ed" + body, digest_size=32).digest()
    else:
        raw = mutate(raw)  # type: ignore[operator]
    data = f"{comment}\n{base64.b64encode(raw).decode()}\n".encode()
    with pytest.raises(MinisignFormatError) as err:
        MinisignSecretKey.parse(data)
    assert reason in err.value.reason


def test_secret_key_file_other_refusals() -> None:
    from fieldkit.crypto.minisign import MinisignSecretKey

    for data in (b"", b"\xff\xfe", b"untrusted comment: x\n", b"x" * 5000, b"a\nb\n"):
        with pytest.raises(MinisignFormatError):
            MinisignSecretKey.parse(data)


def test_crlf_signature_files_are_read_as_minisign_reads_them(tmp_path: Path) -> None:
    """minisign trims the carriage return before each line end; so do we (same trusted comment,
    same verification), and minisign itself accepts the CRLF file we accept."""
    key = Ed25519PrivateKey.generate()
    public = MinisignPublicKey.from_ed25519(key.public_key())
    sig = sign(key, [b"payload"], trusted_comment="bundle=1 seq=2")
    crlf = sig.file_bytes().replace(b"\n", b"\r\n")
    parsed = MinisignSignature.parse(crlf)
    assert parsed.trusted_comment == "bundle=1 seq=2"
    verify(public, parsed, b"payload")
    # a carriage return anywhere else is still part of the line and fails
    inside = sig.file_bytes().replace(b"seq=2", b"seq=\r2")
    with pytest.raises((MinisignFormatError, MinisignVerifyError)):
        verify(public, MinisignSignature.parse(inside), b"payload")
    minisign = require_tool("minisign")
    (tmp_path / "m.pub").write_text(public.file_text())
    (tmp_path / "file.bin").write_bytes(b"payload")
    (tmp_path / "file.bin.minisig").write_bytes(crlf)
    result = subprocess.run(
        [minisign, "-V", "-p", str(tmp_path / "m.pub"), "-m", str(tmp_path / "file.bin")],
        capture_output=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
