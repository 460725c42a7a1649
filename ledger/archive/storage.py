"""Where archive files live, behind a small interface: local files by default.

An object store (django-storages, S3) fits the same four methods; ``write`` must publish a file
whole or not at all, as a rename does here.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

from django.conf import settings


class ArchiveStorage(Protocol):
    def write(self, name: str, chunks: Iterable[bytes]) -> None:
        """Store ``name`` with the bytes of ``chunks``: readers see the old file or the new one
        whole, never a part (a killed writer leaves no file under ``name``)."""

    def open(self, name: str) -> contextlib.AbstractContextManager[BinaryIO]:
        """Read ``name``; ``FileNotFoundError`` when it is not there."""

    def delete(self, name: str) -> None:
        """Remove ``name`` if it is there."""

    def names(self) -> list[str]:
        """Every stored file's name."""


class LocalArchiveStorage:
    """Files in one directory, written to a temporary name, synced, then renamed."""

    TEMPORARY = ".tmp-"

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def write(self, name: str, chunks: Iterable[bytes]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        temporary = self.directory / f"{self.TEMPORARY}{uuid.uuid4().hex}-{name}"
        try:
            with temporary.open("wb") as handle:
                for chunk in chunks:
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            temporary.replace(self.directory / name)
            self._sync_directory()
        finally:
            temporary.unlink(missing_ok=True)

    @contextlib.contextmanager
    def open(self, name: str) -> Iterator[BinaryIO]:
        with (self.directory / name).open("rb") as handle:
            yield handle

    def delete(self, name: str) -> None:
        (self.directory / name).unlink(missing_ok=True)

    def names(self) -> list[str]:
        if not self.directory.is_dir():
            return []
        return sorted(
            path.name
            for path in self.directory.iterdir()
            if path.is_file() and not path.name.startswith(self.TEMPORARY)
        )

    def _sync_directory(self) -> None:
        """The rename itself survives a power cut only once the directory is synced."""
        descriptor = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def archive_storage() -> ArchiveStorage:
    """The configured storage: ``LEDGER_ARCHIVE_DIR`` on the local file system."""
    return LocalArchiveStorage(Path(settings.LEDGER_ARCHIVE_DIR))
