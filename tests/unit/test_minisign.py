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
    assert public.id_hex in pub.read_text()
    sig = MinisignSignature.parse((tmp_path / "file.bin.minisig").read_bytes())
    assert sig.trusted_comment == "made by minisign"
    verify(public, sig, message.read_bytes())
    with pytest.raises(MinisignVerifyError):
        verify(public, sig, message.read_bytes() + b"x")
