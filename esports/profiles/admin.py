from django.contrib import admin

from esports.profiles.models import UserProfile


@admin.register(UserProfile)
class UserProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "display_name", "activity_public"]
    search_fields = ["user__username", "display_name"]
