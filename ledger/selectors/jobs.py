"""Staff listings of ledger jobs, newest first."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledger.filters import LedgerJobFilter, apply_filter
from ledger.models import LedgerJob
from ledger.selectors.paging import Page, PageRequest, keyset_page


def ledger_jobs_page(
    *, request: PageRequest, filters: Mapping[str, Any] | None = None
) -> Page[LedgerJob]:
    """Jobs newest first by (created_at, id), optionally by status and kind, as model rows."""
    queryset = LedgerJob.objects.all()
    if filters:
        queryset = apply_filter(LedgerJobFilter, data=filters, queryset=queryset)
    return keyset_page(queryset, order=("-created_at", "-id"), request=request)


def ledger_job(*, job_id: int) -> LedgerJob | None:
    return LedgerJob.objects.filter(pk=job_id).first()
