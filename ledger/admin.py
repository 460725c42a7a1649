"""The ledger in the admin: read-only, as an audit trail must be (I4)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from ledger.models import ErasedSubject, UserActivity, UserProfileStats


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
