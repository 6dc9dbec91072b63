"""Filesystem faults made by the tests themselves: a small filesystem that fills up.

``small_filesystem(folder, size)`` mounts a tmpfs of ``size`` bytes on ``folder`` when the
test may mount (root, or CAP_SYS_ADMIN), and unmounts it afterwards; ``fill()`` then
writes a filler file until the kernel answers ENOSPC, ``free()`` deletes it. Where
mounting is refused it falls back to the kernel's per-process file-size limit
(RLIMIT_FSIZE, with SIGXFSZ ignored): ``fill()`` lowers the limit to the size of the
largest file in the folder, so that no file there (nor any other file of this process)
can grow and every growing write fails with EFBIG; ``free()`` restores the limit.
``kind`` says which of the two a test got.
"""

from __future__ import annotations

import contextlib
import errno
import os
import resource
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

__all__ = ["SmallFilesystem", "small_filesystem"]


class SmallFilesystem:
    def __init__(self, folder: Path, kind: str) -> None:
        self.folder = folder
        #: "tmpfs" (a real small filesystem) or "rlimit" (the file-size limit)
        self.kind = kind
        self.filler = folder / "filler.bin"
        self._limit: tuple[int, int] | None = None
        self._handler: object = None

    def fill(self) -> None:
        if self.kind == "tmpfs":
            handle = os.open(self.filler, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                for size in (65_536, 512, 1):  # big runs, then the last blocks
                    for _ in range(100_000):  # bounded: the filesystem is small
                        try:
                            os.write(handle, b"\0" * size)
                        except OSError as error:
                            if error.errno != errno.ENOSPC:
                                raise
                            break
            finally:
                os.close(handle)
            return
        largest = max((p.stat().st_size for p in self.folder.rglob("*") if p.is_file()),
                      default=0)
        self._limit = resource.getrlimit(resource.RLIMIT_FSIZE)
        self._handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (largest, self._limit[1]))

    def free(self) -> None:
        if self.kind == "tmpfs":
            with contextlib.suppress(OSError):  # a test may have made it read-only
                self.filler.unlink(missing_ok=True)
            return
        if self._limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, self._limit)
            self._limit = None
        if self._handler is not None:
            signal.signal(signal.SIGXFSZ, self._handler)  # type: ignore[arg-type]
            self._handler = None


def _mount(folder: Path, size: int) -> bool:
    if os.geteuid() != 0 or os.environ.get("RISKRAIL_TEST_NO_MOUNT"):
        return False
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs",
                           str(folder)], capture_output=True, check=False)
    return done.returncode == 0


@contextlib.contextmanager
def small_filesystem(folder: Path, size: int = 1 << 20) -> Iterator[SmallFilesystem]:
    folder.mkdir(parents=True, exist_ok=True)
    mounted = _mount(folder, size)
    fs = SmallFilesystem(folder, "tmpfs" if mounted else "rlimit")
    try:
        yield fs
    finally:
        fs.free()
        if mounted:
            subprocess.run(["umount", "-l", str(folder)], capture_output=True, check=False)
