"""Thumbnails and embedded metadata of images, decoded in a separate, limited process.

Image decoders are the most exposed code in the program (a hostile file may be handed to a
monitor on purpose), so they never run in the process that holds the keys. The parent starts
``python -I -m fieldkit.services.media_worker`` (in a frozen build, the program's own executable
with :data:`FROZEN_WORKER_FLAG`), streams the decrypted image to its stdin and reads one result
from its stdout. Nothing touches the disk: the child sets ``RLIMIT_FSIZE`` to 0 before
it reads a byte, so it cannot write a file even if it wanted to. The child also limits its address
space (``RLIMIT_AS``) and CPU time, disables core dumps, sets ``Image.MAX_IMAGE_PIXELS`` and turns
Pillow's ``DecompressionBombWarning`` into an error; the parent adds a wall-clock timeout and kills
the child when it is exceeded.

Result on stdout: 4-byte big-endian length, a JSON object (status, reason, width, height, format,
embedded_metadata, thumbnail_size, preview_size), then the thumbnail and the preview JPEG bytes.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import struct
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, Final, NamedTuple

from fieldkit.domain.errors import N_
from fieldkit.domain.evidence import MediaReport, PreviewStatus

MAX_INPUT_BYTES: Final = 64 * 1024 * 1024
MAX_PIXELS: Final = 120_000_000  # about a 120-megapixel photo; above: refused as a bomb
MEMORY_LIMIT: Final = 1536 * 1024 * 1024
CPU_SECONDS: Final = 20
WALL_SECONDS: Final = 30.0
THUMBNAIL_EDGE: Final = 320
PREVIEW_EDGE: Final = 1600
MAX_OUTPUT_BYTES: Final = 8 * 1024 * 1024
_TEXT_LIMIT = 200

# Reasons are fixed English phrases (translated for display); they never carry file content.
REASON_TOO_MANY_PIXELS = N_("it declares too many pixels (a possible decompression bomb)")
REASON_NOT_IMAGE = N_("it is not an image this program can read")
REASON_DAMAGED = N_("the image data is damaged or cut short")
REASON_MEMORY = N_("decoding it needed more memory than allowed")
REASON_TIME = N_("decoding it took longer than allowed")
REASON_TOO_LARGE = N_("the file is too large to preview")
REASON_METADATA = N_("its metadata is too large or malformed")
REASON_WORKER = N_("the preview process failed")


# --------------------------------------------------------------------------------------------
# Parent side
# --------------------------------------------------------------------------------------------


# In a frozen build there is no Python to run ``-m``: the program's own command-line executable is
# the child, told by this first argument (packaging/entry_cli.py) to be the media worker.
FROZEN_WORKER_FLAG: Final = "--fieldkit-media-worker"


def worker_command(arguments: list[str]) -> list[str]:
    """The child's command line: ``python -I -m ...`` from source, else the frozen executable."""
    if getattr(sys, "frozen", False):
        # The console executable, also when the parent is the windowed desktop one: its stdin and
        # stdout are the pipes whatever the platform.
        name = "fieldkit.exe" if os.name == "nt" else "fieldkit"
        return [str(Path(sys.executable).with_name(name)), FROZEN_WORKER_FLAG, *arguments]
    return [sys.executable, "-I", "-m", "fieldkit.services.media_worker", *arguments]


class MediaResult(NamedTuple):
    report: MediaReport
    thumbnail: bytes | None  # JPEG, longest edge THUMBNAIL_EDGE
    preview: bytes | None  # JPEG, longest edge PREVIEW_EDGE, for the viewer


def analyse_image(
    source: BinaryIO,
    *,
    timeout: float = WALL_SECONDS,
    max_pixels: int = MAX_PIXELS,
    memory_limit: int = MEMORY_LIMIT,
    cpu_seconds: int = CPU_SECONDS,
) -> MediaResult:
    """Feed ``source`` (plaintext, read in chunks) to a limited child; report and JPEGs back.

    Never raises for a bad image: a hostile or broken file gives a report with status
    ``hostile`` or ``failed`` and a reason.
    """
    command = worker_command([str(max_pixels), str(memory_limit), str(cpu_seconds)])
    env = {"PATH": os.environ.get("PATH", ""), "LC_ALL": "C"}
    try:
        proc = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            close_fds=True,
            # On Windows the console executable would flash a console window over the program.
            creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0),
        )
    except OSError:
        return _failed(PreviewStatus.FAILED, REASON_WORKER)
    assert proc.stdin is not None
    assert proc.stdout is not None
    stdin, stdout = proc.stdin, proc.stdout
    too_large = threading.Event()

    def feed() -> None:
        sent = 0
        try:
            while True:
                block = source.read(256 * 1024)
                if not block:
                    break
                sent += len(block)
                if sent > MAX_INPUT_BYTES:
                    too_large.set()
                    break
                stdin.write(block)
        except (BrokenPipeError, OSError, ValueError):
            pass
        except Exception:  # a decryption failure of the source: stop feeding  # noqa: S110
            pass
        finally:
            with contextlib.suppress(OSError):
                stdin.close()

    output = bytearray()

    def collect() -> None:
        while True:
            block = stdout.read(65536)
            if not block:
                break
            if len(output) + len(block) > MAX_OUTPUT_BYTES:
                proc.kill()
                break
            output.extend(block)

    feeder = threading.Thread(target=feed, daemon=True)
    reader = threading.Thread(target=collect, daemon=True)
    feeder.start()
    reader.start()
    timed_out = False
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        proc.kill()
        proc.wait()
    feeder.join(timeout=5)
    reader.join(timeout=5)
    stdout.close()
    if too_large.is_set():
        return _failed(PreviewStatus.FAILED, REASON_TOO_LARGE)
    if timed_out:
        return _failed(PreviewStatus.HOSTILE, REASON_TIME)
    return _parse_result(proc.returncode, bytes(output))


def _failed(status: PreviewStatus, reason: str) -> MediaResult:
    return MediaResult(MediaReport(status=status, reason=reason), None, None)


def _parse_result(returncode: int, output: bytes) -> MediaResult:
    if returncode != 0:
        # Killed by the CPU limit (SIGXCPU/SIGKILL) or died of the memory limit.
        return _failed(
            PreviewStatus.HOSTILE, REASON_TIME if returncode in (-24, -9) else REASON_MEMORY
        )
    try:
        (length,) = struct.unpack(">I", output[:4])
        header = json.loads(output[4 : 4 + length])
        thumbnail_size = int(header.get("thumbnail_size", 0))
        preview_size = int(header.get("preview_size", 0))
        body = output[4 + length :]
        if len(body) != thumbnail_size + preview_size:
            raise ValueError("size")
        thumbnail, preview = body[:thumbnail_size], body[thumbnail_size:]
        report = MediaReport(
            status=PreviewStatus(header["status"]),
            reason=header.get("reason"),
            width=header.get("width"),
            height=header.get("height"),
            format=header.get("format"),
            embedded_metadata=header.get("embedded_metadata") or {},
        )
    except (ValueError, KeyError, TypeError, struct.error):
        return _failed(PreviewStatus.FAILED, REASON_WORKER)
    return MediaResult(report, thumbnail or None, preview or None)


def analyse_bytes(data: bytes, **kwargs: Any) -> MediaResult:
    """Convenience for small in-memory images (tests, the desktop program's previews)."""
    return analyse_image(io.BytesIO(data), **kwargs)


# --------------------------------------------------------------------------------------------
# Child side
# --------------------------------------------------------------------------------------------


def _limit_resources(memory_limit: int, cpu_seconds: int) -> None:
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows: only the parent's wall-clock limit applies
        return

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    text = str(value).replace("\x00", "").strip()
    return text[:_TEXT_LIMIT] or None


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return number if number == number and abs(number) != float("inf") else None


def _degrees(value: Any, ref: Any) -> float | None:
    try:
        d, m, s = (_number(v) for v in value)
    except (TypeError, ValueError):
        return None
    if d is None or m is None or s is None:
        return None
    result = d + m / 60.0 + s / 3600.0
    if _text(ref) in ("S", "W"):
        result = -result
    return round(result, 7)


def _read_exif(image: Any) -> dict[str, Any]:
    exif = image.getexif()
    found: dict[str, Any] = {}
    base = {0x010F: "camera_make", 0x0110: "camera_model", 0x0131: "software", 0x0132: "datetime"}
    for tag, name in base.items():
        value = _text(exif.get(tag))
        if value:
            found[name] = value
    orientation = exif.get(0x0112)
    if isinstance(orientation, int):
        found["orientation"] = orientation
    details = exif.get_ifd(0x8769)
    extra = {
        0x9003: "datetime_original",
        0x9011: "offset_time_original",
        0xA431: "serial_number",
        0xA434: "lens_model",
        0xA420: "image_unique_id",
    }
    for tag, name in extra.items():
        value = _text(details.get(tag))
        if value:
            found[name] = value
    gps = exif.get_ifd(0x8825)
    if gps:
        position: dict[str, Any] = {}
        lat = _degrees(gps.get(2), gps.get(1)) if gps.get(2) is not None else None
        lon = _degrees(gps.get(4), gps.get(3)) if gps.get(4) is not None else None
        if lat is not None and lon is not None and abs(lat) <= 90 and abs(lon) <= 180:
            position["latitude"] = lat
            position["longitude"] = lon
        altitude = _number(gps.get(6)) if gps.get(6) is not None else None
        if altitude is not None:
            position["altitude"] = round(altitude, 2)
        stamp = _text(gps.get(29))
        if stamp:
            position["date"] = stamp
        if position:
            found["gps"] = position
    return found


def _child(max_pixels: int, memory_limit: int, cpu_seconds: int) -> int:
    _limit_resources(memory_limit, cpu_seconds)
    data = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
    result: dict[str, Any]
    thumbnail = preview = b""
    if len(data) > MAX_INPUT_BYTES:
        result = {"status": PreviewStatus.FAILED.value, "reason": REASON_TOO_LARGE}
    else:
        result, thumbnail, preview = _decode(data, max_pixels)
    result["thumbnail_size"] = len(thumbnail)
    result["preview_size"] = len(preview)
    header = json.dumps(result, ensure_ascii=True, allow_nan=False).encode()
    out = sys.stdout.buffer
    out.write(struct.pack(">I", len(header)) + header + thumbnail + preview)
    out.flush()
    return 0


def _jpeg(image: Any, edge: int) -> bytes:
    copy = image.copy()
    copy.thumbnail((edge, edge))
    out = io.BytesIO()
    copy.convert("RGB").save(out, format="JPEG", quality=80)
    return out.getvalue()


def _decode(data: bytes, max_pixels: int) -> tuple[dict[str, Any], bytes, bytes]:
    import warnings

    from PIL import Image, ImageOps, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = max_pixels
    warnings.simplefilter("error", Image.DecompressionBombWarning)
    hostile = PreviewStatus.HOSTILE.value
    failed = PreviewStatus.FAILED.value
    metadata: dict[str, Any] = {}
    info: dict[str, Any] = {}
    try:
        with Image.open(io.BytesIO(data)) as image:
            info = {"width": image.width, "height": image.height, "format": image.format}
            if image.width * image.height > max_pixels:
                return {"status": hostile, "reason": REASON_TOO_MANY_PIXELS, **info}, b"", b""
            try:
                metadata = _read_exif(image)
            except (ValueError, TypeError, KeyError, IndexError, OSError, SyntaxError):
                metadata = {"unreadable": True}
            image.draft("RGB", (PREVIEW_EDGE, PREVIEW_EDGE))
            upright = ImageOps.exif_transpose(image) or image
            preview = _jpeg(upright, PREVIEW_EDGE)
            thumbnail = _jpeg(upright, THUMBNAIL_EDGE)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return {"status": hostile, "reason": REASON_TOO_MANY_PIXELS, **info}, b"", b""
    except MemoryError:
        return {"status": hostile, "reason": REASON_MEMORY, **info}, b"", b""
    except UnidentifiedImageError:
        return {"status": failed, "reason": REASON_NOT_IMAGE, **info}, b"", b""
    except ValueError as exc:
        # Pillow raises ValueError for text chunks beyond its limits, among others.
        text = str(exc).lower()
        reason = REASON_METADATA if ("chunk" in text or "too large" in text) else REASON_DAMAGED
        return (
            {
                "status": hostile if reason == REASON_METADATA else failed,
                "reason": reason,
                **info,
            },
            b"",
            b"",
        )
    except (
        OSError,
        SyntaxError,
        EOFError,
        IndexError,
        TypeError,
        KeyError,
        struct.error,
        ZeroDivisionError,
        RecursionError,
    ):
        return {"status": failed, "reason": REASON_DAMAGED, **info}, b"", b""
    return (
        {"status": PreviewStatus.OK.value, "embedded_metadata": metadata, **info},
        thumbnail,
        preview,
    )


def main(argv: list[str] | None = None, *, _child_fn: Callable[..., int] = _child) -> int:
    args = sys.argv[1:] if argv is None else argv
    max_pixels, memory_limit, cpu_seconds = (int(a) for a in args[:3])
    return _child_fn(max_pixels, memory_limit, cpu_seconds)


if __name__ == "__main__":
    raise SystemExit(main())
