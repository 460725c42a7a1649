"""Staff operations and the self-service export: each checks permission, then submits ONE job.

The permission check comes first, so a refused caller creates no job and changes nothing.
"""

from __future__ import annotations

from typing import Any

import strawberry
from django.contrib.auth.models import AbstractUser
from strawberry.types import Info

from graphql_api.context import db, viewer_of
from graphql_api.errors import BadInput, NotFound
from graphql_api.jobs.types import (
    ArchiveActivityInput,
    BackfillActivityInput,
    CancelLedgerJobInput,
    LedgerJobNode,
    ReconcileStatsInput,
    UserIdInput,
)
from graphql_api.nodes.ids import parse_user_id
from graphql_api.pagination import parse_id
from graphql_api.permissions import require_signed_in, require_staff
from ledger.exceptions import LedgerError
from ledger.models import LedgerJob
from ledger.operations.jobs import cancel_job, submit_job

MAX_RECONCILE_USERS = 1000
"""A longer list is a job for the nightly run over every user (omit userIds)."""


async def _submit(
    kind: str, parameters: dict[str, Any], requested_by: AbstractUser
) -> LedgerJobNode:
    try:
        job = await db(submit_job)(kind=kind, parameters=parameters, requested_by=requested_by)
    except LedgerError as error:
        raise BadInput(str(error)) from None
    return LedgerJobNode.from_job(job)


@strawberry.type
class JobMutations:
    @strawberry.mutation(description="Converge the ledger to the platform's tables (staff).")
    async def backfill_activity(self, info: Info, input: BackfillActivityInput) -> LedgerJobNode:
        viewer = require_staff(viewer_of(info))
        parameters = {"sources": input.sources, "dry_run": input.dry_run}
        return await _submit(LedgerJob.Kind.BACKFILL, parameters, viewer)

    @strawberry.mutation(description="Compare stats with a recompute; fix drift if asked (staff).")
    async def reconcile_stats(self, info: Info, input: ReconcileStatsInput) -> LedgerJobNode:
        viewer = require_staff(viewer_of(info))
        if input.user_ids is not None and len(input.user_ids) > MAX_RECONCILE_USERS:
            raise BadInput(
                f"Pass at most {MAX_RECONCILE_USERS} userIds, or none to check every user.",
                field="userIds",
            )
        user_ids = (
            None
            if input.user_ids is None
            else [parse_user_id(u, what="userIds") for u in input.user_ids]
        )
        return await _submit(
            LedgerJob.Kind.RECONCILE, {"user_ids": user_ids, "fix": input.fix}, viewer
        )

    @strawberry.mutation(
        description="Move whole months of old events to the archive's files (staff)."
    )
    async def archive_activity(self, info: Info, input: ArchiveActivityInput) -> LedgerJobNode:
        viewer = require_staff(viewer_of(info))
        return await _submit(LedgerJob.Kind.ARCHIVE, {"before": input.before}, viewer)

    @strawberry.mutation(description="Erase a user from the ledger (GDPR Art. 17, staff).")
    async def anonymize_user(self, info: Info, input: UserIdInput) -> LedgerJobNode:
        viewer = require_staff(viewer_of(info))
        user_id = parse_user_id(input.user_id, what="userId")
        return await _submit(LedgerJob.Kind.ANONYMIZE, {"user_id": user_id}, viewer)

    @strawberry.mutation(description="Export a user's activity (GDPR Art. 15, staff).")
    async def export_user_data(self, info: Info, input: UserIdInput) -> LedgerJobNode:
        viewer = require_staff(viewer_of(info))
        user_id = parse_user_id(input.user_id, what="userId")
        return await _submit(LedgerJob.Kind.EXPORT, {"user_id": user_id}, viewer)

    @strawberry.mutation(description="Export your own activity (GDPR Art. 15).")
    async def export_my_data(self, info: Info) -> LedgerJobNode:
        viewer = require_signed_in(viewer_of(info))
        return await _submit(LedgerJob.Kind.EXPORT, {"user_id": int(viewer.pk)}, viewer)

    @strawberry.mutation(
        description="Cancel a job (staff): a pending one at once, a running one at its next "
        "checkpoint, after its last committed batch. A finished job cannot be cancelled."
    )
    async def cancel_ledger_job(self, info: Info, input: CancelLedgerJobInput) -> LedgerJobNode:
        viewer = require_staff(viewer_of(info))
        job_id = parse_id(input.id, what="id")
        try:
            job = await db(cancel_job)(job_id=job_id, cancelled_by=viewer)
        except LedgerJob.DoesNotExist:
            raise NotFound(f"No ledger job {job_id}.", field="id") from None
        except LedgerError as error:
            raise BadInput(str(error), field="id") from None
        return LedgerJobNode.from_job(job)
