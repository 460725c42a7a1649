from django.contrib import admin

from esports.tournaments.models import Match, Registration, Tournament, TournamentResult


@admin.register(Tournament)
class TournamentAdmin(admin.ModelAdmin):
    list_display = ["name", "game", "status", "starts_at", "team_size"]
    list_filter = ["status", "game"]
    search_fields = ["name"]


@admin.register(Registration)
class RegistrationAdmin(admin.ModelAdmin):
    list_display = ["tournament", "user", "team", "status", "checked_in"]
    list_filter = ["status", "checked_in"]
    raw_id_fields = ["tournament", "user", "team"]


@admin.register(Match)
class MatchAdmin(admin.ModelAdmin):
    list_display = ["tournament", "round", "participant1", "participant2", "winner", "state"]
    list_filter = ["state"]
    raw_id_fields = ["tournament", "participant1", "participant2", "winner", "loser"]


@admin.register(TournamentResult)
class TournamentResultAdmin(admin.ModelAdmin):
    list_display = ["tournament", "winner", "runner_up", "created_at"]
    raw_id_fields = ["tournament", "winner", "runner_up", "third_place", "fourth_place"]
