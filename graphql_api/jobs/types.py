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
        default=None, description="Users to check; every user when omitted."
    )
    fix: bool = False


@strawberry.input
class UserIdInput:
    user_id: strawberry.ID
