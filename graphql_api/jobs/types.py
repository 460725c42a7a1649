"""Ledger job types: an operation's audit row as staff (or an exporting user) see it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from django.urls import reverse
from strawberry.relay import PageInfo
from strawberry.scalars import JSON

from ledger.models import LedgerJob

strawberry.enum(LedgerJob.Kind, name="LedgerJobKind")  # registers the enums on the classes
strawberry.enum(LedgerJob.Status, name="LedgerJobStatus")


@strawberry.type
class JobProgress:
    done: int
    total: int | None


@strawberry.type(description="Why one attempt at a job ended without finishing it.")
class JobAttemptError:
    attempt: int
    worker: str = strawberry.field(description="The worker that ran it (host:pid:token).")
    at: datetime
    error: str

    @classmethod
    def from_entry(cls, entry: dict[str, Any]) -> JobAttemptError:
        return cls(
            attempt=int(entry["attempt"]),
            worker=str(entry["worker"]),
            at=datetime.fromisoformat(entry["at"]),
            error=str(entry["error"]),
        )


@strawberry.type(name="LedgerJob", description="One run of a ledger operation.")
class LedgerJobNode:
    id: strawberry.ID
    kind: LedgerJob.Kind
    status: LedgerJob.Status
    parameters: JSON
    progress: JobProgress
    result: JSON
    error: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    download_url: str | None = strawberry.field(
        description="For a finished export: where its owner or staff download the file."
    )
    attempts: int = strawberry.field(
        description="Times a worker took the job (a failed or killed attempt is tried again)."
    )
    attempt_errors: list[JobAttemptError] = strawberry.field(
        description="Why each earlier attempt ended, oldest first."
    )
    lease_expires_at: datetime | None = strawberry.field(
        description="While running: its worker renews this; once past, another worker takes it."
    )
    lease_stale: bool = strawberry.field(
        description="Running, but its worker stopped renewing the lease (killed, or cut off)."
    )
    cancel_requested_at: datetime | None = strawberry.field(
        description="When a cancel was asked for; a running job stops at its next checkpoint."
    )

    @classmethod
    def from_job(cls, job: LedgerJob) -> LedgerJobNode:
        return cls(
            id=strawberry.ID(str(job.pk)),
            kind=LedgerJob.Kind(job.kind),
            status=LedgerJob.Status(job.status),
            parameters=job.parameters,
            progress=JobProgress(done=job.progress_done, total=job.progress_total),
            result=job.result,
            error=job.error,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            download_url=export_download_url(job),
            attempts=job.attempts,
            attempt_errors=[JobAttemptError.from_entry(e) for e in job.attempt_errors],
            lease_expires_at=job.lease_expires_at,
            lease_stale=job.lease_stale,
            cancel_requested_at=job.cancel_requested_at,
        )


def export_download_url(job: LedgerJob) -> str | None:
    result: dict[str, Any] = job.result or {}
    if job.kind != LedgerJob.Kind.EXPORT or not result.get("file") or result.get("file_deleted"):
        return None
    return reverse("graphql_api:export-download", kwargs={"job_id": job.pk})


@strawberry.type
class LedgerJobEdge:
    cursor: str
    node: LedgerJobNode


@strawberry.type
class LedgerJobConnection:
    edges: list[LedgerJobEdge]
    page_info: PageInfo


@strawberry.input
class BackfillActivityInput:
    sources: list[str] | None = strawberry.field(
        default=None, description="Source names (e.g. tournaments.match); all when omitted."
    )
    dry_run: bool = False


@strawberry.input
class ReconcileStatsInput:
    user_ids: list[strawberry.ID] | None = strawberry.field(
        default=None,
        description="Users to check (User IDs; numeric ids, deprecated, are still read); "
        "every user when omitted.",
    )
    fix: bool = False


@strawberry.input
class UserIdInput:
    user_id: strawberry.ID = strawberry.field(
        description="The user's ID (a numeric id, deprecated, is still read)."
    )


@strawberry.input
class ArchiveActivityInput:
    before: str = strawberry.field(
        description="YYYY-MM-DD, not in the future: the events of every whole month that ends "
        "on or before it move to the archive."
    )


@strawberry.input
class CancelLedgerJobInput:
    id: strawberry.ID
