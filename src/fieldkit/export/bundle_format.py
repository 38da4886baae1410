"""The inner container of a bundle: a strict subset of POSIX ustar, written and read as a stream.

Writing: each member's size is known before its header is written, so members stream straight
through without buffering. Reading: our own parser, not ``tarfile``. It accepts only what the
writer produces: ustar headers with a valid checksum, regular files, names from a fixed allow-list,
no prefix field, sizes under a cap. Member names are compared against the allow-list and never
joined to a path.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO, Protocol

from fieldkit.domain.errors import N_

BLOCK = 512
SUMS_NAME = "SHA256SUMS"
SIG_NAME = "SHA256SUMS.minisig"
MANIFEST_NAME = "manifest.json"
AUDIT_NAME = "audit.json"
CUSTODY_NAME = "custody.json"

UUID_PATTERN = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
REVISION_PATTERN = r"[1-9][0-9]{0,8}"
SHA256_PATTERN = r"[0-9a-f]{64}"
RECORD_MEMBER_RE = re.compile(rf"records/({UUID_PATTERN})-({REVISION_PATTERN})\.json")
EVIDENCE_MEMBER_RE = re.compile(rf"evidence/({UUID_PATTERN})\.json")
OBJECT_MEMBER_RE = re.compile(rf"objects/({SHA256_PATTERN})")
FIXED_NAMES = frozenset({SUMS_NAME, SIG_NAME, MANIFEST_NAME, AUDIT_NAME, CUSTODY_NAME})

MAX_OCTAL_SIZE = 8**11 - 1
_TYPE_NAMES = {
    b"1": "hard link",
    b"2": "symbolic link",
    b"3": "character device",
    b"4": "block device",
    b"5": "directory",
    b"6": "FIFO",
    b"7": "contiguous file",
    b"x": "pax extended header",
    b"g": "pax global header",
    b"L": "GNU long name",
    b"K": "GNU long link name",
}


class TarFormatError(Exception):
    """The inner tar stream is not what the format allows.

    ``kind`` is "unsafe" (links, devices, hostile names), "layout" (structure) or "truncated".
    """

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


def is_allowed_name(name: str) -> bool:
    return (
        name in FIXED_NAMES
        or RECORD_MEMBER_RE.fullmatch(name) is not None
        or EVIDENCE_MEMBER_RE.fullmatch(name) is not None
        or OBJECT_MEMBER_RE.fullmatch(name) is not None
    )


def record_member(record_id: str, revision: int) -> str:
    return f"records/{record_id}-{revision}.json"


def evidence_member(item_id: str) -> str:
    return f"evidence/{item_id}.json"


def object_member(sha256_hex: str) -> str:
    return f"objects/{sha256_hex}"


def display_name(raw: bytes | str, limit: int = 80) -> str:
    """A hostile name made safe to print: controls and bidi marks escaped, length bounded."""
    text = raw.decode("utf-8", "backslashreplace") if isinstance(raw, bytes) else raw
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if (
            cat.startswith("C")
            or cat in ("Zl", "Zp")
            or unicodedata.bidirectional(ch)
            in (
                "RLE",
                "LRE",
                "RLO",
                "LRO",
                "PDF",
                "RLI",
                "LRI",
                "FSI",
                "PDI",
            )
        ):
            out.append(f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}")
        else:
            out.append(ch)
    shown = "".join(out)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


# --- writing -------------------------------------------------------------------------------------


def _octal(value: int, width: int) -> bytes:
    text = format(value, "o").encode("ascii")
    if len(text) > width - 1:
        raise ValueError("value too large for the field")
    return text.rjust(width - 1, b"0") + b"\0"


def _size_field(size: int) -> bytes:
    if size <= MAX_OCTAL_SIZE:
        return _octal(size, 12)
    # GNU base-256: the high bit of the first byte set, the value big-endian in the rest.
    return b"\x80" + size.to_bytes(11, "big")


def make_header(name: str, size: int, mtime: int, *, typeflag: bytes = b"0") -> bytes:
    raw_name = name.encode("ascii")
    if len(raw_name) > 100:
        raise ValueError("member name too long")
    header = bytearray(BLOCK)
    header[0:100] = raw_name.ljust(100, b"\0")
    header[100:108] = _octal(0o644, 8)
    header[108:116] = _octal(0, 8)
    header[116:124] = _octal(0, 8)
    header[124:136] = _size_field(size)
    header[136:148] = _octal(mtime, 12)
    header[148:156] = b" " * 8
    header[156:157] = typeflag
    header[257:263] = b"ustar\0"
    header[263:265] = b"00"
    checksum = sum(header)
    header[148:156] = format(checksum, "06o").encode("ascii") + b"\0 "
    return bytes(header)


class Sink(Protocol):
    def write(self, data: bytes, /) -> object: ...


class TarWriter:
    """Writes members one after the other; each declares its size before its data."""

    def __init__(self, sink: Sink, mtime: int = 0) -> None:
        self._sink = sink
        self._mtime = mtime
        self._remaining = 0
        self._padding = 0
        self._name = ""

    def begin(self, name: str, size: int) -> None:
        if self._remaining:
            raise ValueError(f"member {self._name} is not complete")
        if not is_allowed_name(name):
            raise ValueError(f"member name not allowed: {name}")
        self._sink.write(make_header(name, size, self._mtime))
        self._name = name
        self._remaining = size
        self._padding = -size % BLOCK

    def write(self, data: bytes) -> None:
        if len(data) > self._remaining:
            raise ValueError(f"member {self._name} is longer than declared")
        self._remaining -= len(data)
        if data:
            self._sink.write(data)
        if not self._remaining and self._padding:
            self._sink.write(b"\0" * self._padding)
            self._padding = 0

    def end(self) -> None:
        if self._remaining:
            raise ValueError(f"member {self._name} is shorter than declared")
        if self._padding:
            self._sink.write(b"\0" * self._padding)
            self._padding = 0

    def add(self, name: str, data: bytes) -> None:
        self.begin(name, len(data))
        self.write(data)
        self.end()

    def add_stream(self, name: str, size: int, chunks: Iterable[bytes]) -> None:
        self.begin(name, size)
        for chunk in chunks:
            self.write(chunk)
        self.end()

    def close(self) -> None:
        if self._remaining:
            raise ValueError(f"member {self._name} is not complete")
        self._sink.write(b"\0" * (2 * BLOCK))


# --- reading -------------------------------------------------------------------------------------


class Source(Protocol):
    def read(self, n: int = -1, /) -> bytes: ...


def _read_exact(source: Source, n: int) -> bytes:
    parts = []
    remaining = n
    while remaining:
        part = source.read(remaining)
        if not part:
            break
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


def _parse_octal(field: bytes, what: str) -> int:
    if field and field[0] & 0x80:
        if field[0] != 0x80:
            raise TarFormatError("layout", f"negative or oversized {what} field")
        return int.from_bytes(field[1:], "big")
    text = field.rstrip(b"\0 ").lstrip(b" ")
    if not text or not re.fullmatch(rb"[0-7]+", text):
        raise TarFormatError("layout", f"malformed {what} field")
    return int(text, 8)


@dataclass(frozen=True)
class MemberHeader:
    name: str
    size: int


class TarReader:
    """Reads members in order; a member's data must be read completely before the next header."""

    def __init__(self, source: Source, max_trailer: int = 1024 * 1024) -> None:
        self._source = source
        self._remaining = 0
        self._padding = 0
        self._max_trailer = max_trailer
        self._ended = False
        self.names_seen: set[str] = set()

    def next(self) -> MemberHeader | None:
        """The next member's header, or None at the (verified) end of the archive."""
        if self._remaining:
            raise ValueError("the previous member was not read completely")
        if self._ended:
            return None
        if self._padding:
            pad = _read_exact(self._source, self._padding)
            if len(pad) != self._padding:
                raise TarFormatError("truncated", N_("the archive ends inside a member"))
            if pad.count(0) != len(pad):
                raise TarFormatError("layout", N_("data hidden in the padding after a member"))
            self._padding = 0
        block = _read_exact(self._source, BLOCK)
        if len(block) != BLOCK:
            if not block:
                raise TarFormatError("truncated", N_("the archive has no end marker"))
            raise TarFormatError("truncated", N_("the archive ends inside a header"))
        if block == bytes(BLOCK):
            self._finish()
            return None
        header = self._parse_header(block)
        if header.name in self.names_seen:
            raise TarFormatError("layout", f"duplicate member {header.name}")
        self.names_seen.add(header.name)
        self._remaining = header.size
        self._padding = -header.size % BLOCK
        return header

    def _finish(self) -> None:
        second = _read_exact(self._source, BLOCK)
        if second != bytes(BLOCK):
            raise TarFormatError("layout", N_("the archive's end marker is malformed"))
        trailer = 0
        while True:
            more = self._source.read(BLOCK)
            if not more:
                break
            trailer += len(more)
            if more.count(0) != len(more):
                raise TarFormatError("layout", N_("data after the end of the archive"))
            if trailer > self._max_trailer:
                raise TarFormatError("layout", N_("too much data after the end of the archive"))
        self._ended = True

    @staticmethod
    def _parse_header(block: bytes) -> MemberHeader:
        stored = _parse_octal(block[148:156], "checksum")
        computed = sum(block[:148]) + 8 * 0x20 + sum(block[156:])
        if stored != computed:
            raise TarFormatError("layout", N_("a member header's checksum is wrong"))
        if block[257:263] != b"ustar\0" or block[263:265] != b"00":
            raise TarFormatError("layout", N_("a member header is not POSIX ustar"))
        raw_name = block[0:100].split(b"\0", 1)[0]
        if block[0:100][len(raw_name) :].strip(b"\0"):
            raise TarFormatError("unsafe", N_("a member name hides bytes after its end"))
        if block[345:500].strip(b"\0"):
            raise TarFormatError(
                "unsafe", f"member {display_name(raw_name)} uses the name prefix field"
            )
        typeflag = block[156:157]
        # the escaped name is made only for a message (it is slow for every member)
        if typeflag not in (b"0", b"\0"):
            kind = _TYPE_NAMES.get(typeflag, f"type {display_name(typeflag)}")
            raise TarFormatError(
                "unsafe", f"{display_name(raw_name)} is a {kind}, not a regular file"
            )
        if block[157:257].strip(b"\0"):
            raise TarFormatError("unsafe", f"{display_name(raw_name)} carries a link target")
        try:
            name = raw_name.decode("ascii")
        except UnicodeDecodeError:
            raise TarFormatError(
                "unsafe", f"member name {display_name(raw_name)} is not plain ASCII"
            ) from None
        if not is_allowed_name(name):
            raise TarFormatError("unsafe", f"member name {display_name(raw_name)} is not allowed")
        size = _parse_octal(block[124:136], "size")
        mtime = _parse_octal(block[136:148], "mtime")
        if mtime > MAX_OCTAL_SIZE or make_header(name, size, mtime) != block:
            # Only the exact header the writer produces is accepted: no field may carry
            # anything the format does not define (owners, modes, device numbers, padding).
            raise TarFormatError("layout", f"the header of {name} has non-standard fields")
        return MemberHeader(name, size)

    def read(self, n: int) -> bytes:
        """Up to ``n`` bytes of the current member; ``b""`` when it is complete."""
        if not self._remaining:
            return b""
        want = min(n, self._remaining)
        data = self._source.read(want)
        if not data:
            raise TarFormatError("truncated", N_("the archive ends inside a member"))
        self._remaining -= len(data)
        return data

    def read_all(self, limit: int) -> bytes:
        if self._remaining > limit:
            raise ValueError("member larger than the limit")
        parts = []
        while self._remaining:
            parts.append(self.read(self._remaining))
        return b"".join(parts)

    def skip(self) -> None:
        while self._remaining:
            self.read(min(self._remaining, 1 << 20))


def open_regular_file(path: str) -> BinaryIO:
    """Open a file for reading without following a symbolic link; refuse anything not regular."""
    import os
    import stat

    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise IsADirectoryError(path)
        return os.fdopen(fd, "rb", buffering=1024 * 1024)
    except BaseException:
        os.close(fd)
        raise
