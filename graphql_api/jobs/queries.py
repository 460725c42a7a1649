"""ledgerJob and ledgerJobs (staff)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from graphql_api.context import db, viewer_of
from graphql_api.errors import BadInput, NotFound
from graphql_api.jobs.types import (
    LedgerJobConnection,
    LedgerJobEdge,
    LedgerJobNode,
)
from graphql_api.pagination import encode_cursor, page_info, parse_id, to_page_request
from graphql_api.permissions import require_staff
from ledger.filters import InvalidFilterError
from ledger.models import LedgerJob
from ledger.selectors import ledger_job, ledger_jobs_page

JOB_CURSOR = "job"


@strawberry.type
class JobQueries:
    @strawberry.field(description="One job by id (staff).")
    async def ledger_job(self, info: Info, id: strawberry.ID) -> LedgerJobNode:
        require_staff(viewer_of(info))
        job_id = parse_id(id, what="id")
        job = await db(ledger_job)(job_id=job_id)
        if job is None:
            raise NotFound(f"No ledger job {job_id}.", field="id")
        return LedgerJobNode.from_job(job)

    @strawberry.field(description="Jobs, newest first, optionally by status and kind (staff).")
    async def ledger_jobs(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        status: LedgerJob.Status | None = None,
        kind: LedgerJob.Kind | None = None,
    ) -> LedgerJobConnection:
        require_staff(viewer_of(info))
        request = to_page_request(kind=JOB_CURSOR, first=first, after=after)
        filters: dict[str, str] = {}
        if status is not None:
            filters["status"] = status.value
        if kind is not None:
            filters["kind"] = kind.value
        try:
            page = await db(ledger_jobs_page)(request=request, filters=filters)
        except InvalidFilterError as error:
            raise BadInput(str(error)) from None
        edges = [
            LedgerJobEdge(
                cursor=encode_cursor(JOB_CURSOR, job.created_at, job.pk),
                node=LedgerJobNode.from_job(job),
            )
            for job in page.rows
        ]
        return LedgerJobConnection(
            edges=edges, page_info=page_info(page, [e.cursor for e in edges])
        )
