"""Compare two builds of the same commit, file by file: which files differ, and how.

    python packaging/compare_builds.py A.tar.gz B.tar.gz

Prints whether the archives are byte-identical, then every member whose content differs (with its
size and the number of differing bytes) and members present in only one of them.
"""

from __future__ import annotations

import hashlib
import sys
import tarfile
from pathlib import Path


def members(path: Path) -> dict[str, tuple[str, bytes]]:
    found: dict[str, tuple[str, bytes]] = {}
    with tarfile.open(path) as tar:
        for info in tar:
            data = b""
            if info.isfile():
                handle = tar.extractfile(info)
                data = handle.read() if handle else b""
            meta = f"{info.type!r} {info.mode:o} {info.mtime} {info.linkname}"
            found[info.name] = (meta, data)
    return found


def main(argv: list[str]) -> int:
    first, second = Path(argv[0]), Path(argv[1])
    same = first.read_bytes() == second.read_bytes()
    print(f"archives byte-identical: {same}")
    if same:
        return 0
    a, b = members(first), members(second)
    for name in sorted(set(a) | set(b)):
        if name not in a or name not in b:
            print(f"only in {'second' if name not in a else 'first'}: {name}")
            continue
        (meta_a, data_a), (meta_b, data_b) = a[name], b[name]
        if meta_a != meta_b:
            print(f"metadata differs: {name}: {meta_a} / {meta_b}")
        if data_a != data_b:
            differing = sum(x != y for x, y in zip(data_a, data_b)) + abs(len(data_a) - len(data_b))
            digest_a = hashlib.sha256(data_a).hexdigest()[:12]
            digest_b = hashlib.sha256(data_b).hexdigest()[:12]
            print(
                f"content differs: {name} ({len(data_a)} / {len(data_b)} bytes, "
                f"{differing} bytes differ, {digest_a} / {digest_b})"
            )
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
