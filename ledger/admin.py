"""The ledger in the admin: read-only, as an audit trail must be (I4); jobs can be cancelled."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from ledger.exceptions import LedgerError
from ledger.models import ErasedSubject, LedgerJob, UserActivity, UserProfileStats
from ledger.operations.jobs import cancel_job


class ReadOnlyAdmin(admin.ModelAdmin):
    """No one adds, changes or deletes here, so Django shows every field read-only."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(UserActivity)
class UserActivityAdmin(ReadOnlyAdmin):
    list_display = ["user", "event_type", "timestamp", "source_model", "source_id"]
    list_filter = ["event_type", "timestamp"]
    search_fields = ["user__username", "metadata"]
    list_select_related = ["user"]
    show_full_result_count = False


@admin.register(UserProfileStats)
class UserProfileStatsAdmin(ReadOnlyAdmin):
    list_display = [
        "user",
        "tournaments_played",
        "tournaments_won",
        "matches_played",
        "matches_won",
        "total_earned",
        "last_activity_at",
    ]
    search_fields = ["user__username"]
    list_select_related = ["user"]


@admin.register(ErasedSubject)
class ErasedSubjectAdmin(ReadOnlyAdmin):
    list_display = ["public_id", "erased_at"]


@admin.register(LedgerJob)
class LedgerJobAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "kind",
        "status",
        "attempts",
        "progress_done",
        "progress_total",
        "lease_expires_at",
        "created_at",
        "finished_at",
    ]
    list_filter = ["status", "kind"]
    readonly_fields = [
        "kind",
        "status",
        "parameters",
        "requested_by",
        "progress_done",
        "progress_total",
        "result",
        "error",
        "attempts",
        "attempt_errors",
        "lease_owner",
        "lease_expires_at",
        "cancel_requested_at",
        "cancelled_by",
        "created_at",
        "queued_at",
        "started_at",
        "finished_at",
    ]
    exclude = ["subject_digest"]
    actions = ["cancel_jobs"]

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("ledger.change_ledgerjob")

    @admin.action(
        description="Cancel the selected jobs (running ones stop at their next checkpoint)",
        permissions=["cancel"],
    )
    def cancel_jobs(self, request: HttpRequest, queryset: QuerySet[LedgerJob]) -> None:
        for pk in queryset.values_list("pk", flat=True):
            try:
                job = cancel_job(job_id=pk, cancelled_by=request.user)
            except LedgerError as error:
                self.message_user(request, str(error), messages.WARNING)
                continue
            if job.status == LedgerJob.Status.CANCELLED:
                self.message_user(request, f"Job {pk} is cancelled.")
            else:
                self.message_user(request, f"Job {pk} will stop at its next checkpoint.")
