"""The archive's files: one gzip-compressed JSON line per event, in (timestamp, id) order, and a
manifest that lists them with their checksums.

A file holds every column of the event row, so events can be restored into the table or exported
as they were. Compression is deterministic (no time in the gzip header): archiving the same rows
again writes the same bytes. A file is read only after its SHA-256 matched the one recorded when
it was written; a mismatch or a missing file is an ``ArchiveCorruptedError``, never a silent read.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from typing import Any

from django.db.models import Max, QuerySet
from django.db.models.functions import TruncMonth

from ledger.archive.storage import ArchiveStorage
from ledger.exceptions import ArchiveCorruptedError
from ledger.models import ArchivedFile, UserActivity

FORMAT = 1
"""The manifest's and the files' format version."""

MANIFEST = "manifest.json"

COLUMNS: tuple[str, ...] = tuple(field.attname for field in UserActivity._meta.concrete_fields)
"""Every column of ``ledger_useractivity``: what a restore inserts back."""

TIME_COLUMNS = ("timestamp", "created_at")
CHUNK = 1 << 20


def file_name(month: date, part: int, revision: int) -> str:
    """``events-2024-01.jsonl.gz``; a later part ``.part2``, a rewrite ``.r2`` before the suffix."""
    name = f"events-{month:%Y-%m}"
    if part > 1:
        name += f".part{part}"
    if revision > 1:
        name += f".r{revision}"
    return name + ".jsonl.gz"


def encode(row: dict[str, Any]) -> bytes:
    """One event as a JSON line, its times in ISO 8601."""
    values = {
        name: row[name].isoformat() if name in TIME_COLUMNS else row[name] for name in COLUMNS
    }
    return (json.dumps(values, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def decode(line: bytes) -> dict[str, Any]:
    row: dict[str, Any] = json.loads(line)
    for name in TIME_COLUMNS:
        row[name] = datetime.fromisoformat(row[name])
    return row


class CompressedLines:
    """Gzip of the lines given to ``add``, taken in chunks; counts them, hashes what it emits."""

    def __init__(self) -> None:
        self._buffer = io.BytesIO()
        self._gzip = gzip.GzipFile(fileobj=self._buffer, mode="wb", mtime=0, compresslevel=6)
        self.rows = 0
        self.sha256 = hashlib.sha256()

    def add(self, line: bytes) -> None:
        self._gzip.write(line)
        self.rows += 1

    @property
    def pending(self) -> int:
        """Compressed bytes not yet taken."""
        return self._buffer.tell()

    def take(self, *, final: bool = False) -> bytes:
        """The compressed bytes so far (all of them, the gzip trailer included, when final)."""
        if final:
            self._gzip.close()
        data = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        self.sha256.update(data)
        return data


def write_rows(
    storage: ArchiveStorage, name: str, rows: Iterable[dict[str, Any]]
) -> tuple[int, str]:
    """Write ``rows`` to the file ``name``; return how many and the file's SHA-256."""
    lines = CompressedLines()

    def chunks() -> Iterator[bytes]:
        for row in rows:
            lines.add(encode(row))
            if lines.pending >= CHUNK:
                yield lines.take()
        yield lines.take(final=True)

    storage.write(name, chunks())
    return lines.rows, lines.sha256.hexdigest()


def verify(storage: ArchiveStorage, archived: ArchivedFile) -> None:
    """Raise ``ArchiveCorruptedError`` unless the file is there with its recorded checksum."""
    digest = hashlib.sha256()
    try:
        with storage.open(archived.name) as handle:
            while block := handle.read(CHUNK):
                digest.update(block)
    except FileNotFoundError:
        raise ArchiveCorruptedError(
            f"Archive file {archived.name} is missing: restore it from a backup before reading "
            "the archive."
        ) from None
    if digest.hexdigest() != archived.sha256:
        raise ArchiveCorruptedError(
            f"Archive file {archived.name} does not match its checksum (sha256 "
            f"{digest.hexdigest()}, recorded {archived.sha256}): it is corrupted; restore it "
            "from a backup. Nothing was read from it."
        )


def read_rows(storage: ArchiveStorage, archived: ArchivedFile) -> Iterator[dict[str, Any]]:
    """The file's events in order, once its checksum is verified (before the first row)."""
    verify(storage, archived)
    with storage.open(archived.name) as handle, gzip.GzipFile(fileobj=handle, mode="rb") as lines:
        for line in lines:
            yield decode(line)


def horizon() -> datetime | None:
    """The archive horizon: events before it were archived (the start of the month after the
    latest archived one); None when nothing was."""
    latest = ArchivedFile.objects.aggregate(latest=Max("month"))["latest"]
    if latest is None:
        return None
    return month_after(month_start(latest))


def months_of(events: QuerySet[Any]) -> set[date]:
    """The months (first days, UTC) that ``events``, hot or archived, have timestamps in: one
    grouped query, where a file is one month."""
    months = (
        events.annotate(month=TruncMonth("timestamp"))
        .order_by()
        .values_list("month", flat=True)
        .distinct()
    )
    return {month.date() if isinstance(month, datetime) else month for month in months}


def month_start(day: date) -> datetime:
    """Midnight UTC on the first of ``day``'s month."""
    return datetime(day.year, day.month, 1, tzinfo=UTC)


def month_after(start: datetime) -> datetime:
    return start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)


def write_manifest(storage: ArchiveStorage) -> dict[str, Any]:
    """Rewrite the manifest from the database's list of files (the truth), atomically.

    ``baseline_version`` counts the files folded into the baselines: a restore that brings files
    back must also take the baselines of exactly those files away."""
    files = list(ArchivedFile.objects.order_by("month", "part"))
    edge = horizon()
    manifest = {
        "format": FORMAT,
        "horizon": edge.isoformat() if edge else None,
        "baseline_version": len(files),
        "columns": list(COLUMNS),
        "files": [
            {
                "month": f"{f.month:%Y-%m}",
                "part": f.part,
                "revision": f.revision,
                "name": f.name,
                "rows": f.rows,
                "sha256": f.sha256,
            }
            for f in files
        ],
    }
    storage.write(MANIFEST, [json.dumps(manifest, indent=2).encode() + b"\n"])
    return manifest
