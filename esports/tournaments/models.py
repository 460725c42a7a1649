"""Tournaments, registrations, matches and results, as the platform keeps them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from esports.common import ValidatedModel
from esports.profiles.models import describe_user


class Tournament(ValidatedModel):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        REGISTRATION = "registration", "Registration open"
        LIVE = "live", "Live"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    name = models.CharField(max_length=128)
    game = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    starts_at = models.DateTimeField(default=timezone.now)
    entry_fee = models.PositiveIntegerField(default=0)
    team_size = models.PositiveSmallIntegerField(default=1, help_text="1 means solo.")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(team_size__gte=1), name="tournaments_team_size_gte_1"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Registration(ValidatedModel):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        CONFIRMED = "confirmed", "Confirmed"
        CANCELLED = "cancelled", "Cancelled"
        NO_SHOW = "no_show", "No-show"

    tournament = models.ForeignKey(
        Tournament, on_delete=models.PROTECT, related_name="registrations"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tournament_registrations",
    )
    team = models.ForeignKey(
        "teams.Team",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tournament_registrations",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    checked_in = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    checked_in_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(team__isnull=True))
                | (Q(user__isnull=True) & Q(team__isnull=False)),
                name="tournaments_registration_user_xor_team",
            ),
            models.UniqueConstraint(
                fields=["tournament", "user"],
                condition=Q(user__isnull=False),
                name="tournaments_one_registration_per_user",
            ),
            models.UniqueConstraint(
                fields=["tournament", "team"],
                condition=Q(team__isnull=False),
                name="tournaments_one_registration_per_team",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.participant_name} in {self.tournament_id}"

    def clean(self) -> None:
        if (self.user_id is None) == (self.team_id is None):
            raise ValidationError("A registration is for exactly one of a user or a team.")
        now = timezone.now()
        if self.status == self.Status.CONFIRMED and self.confirmed_at is None:
            self.confirmed_at = now
        if self.checked_in:
            if self.confirmed_at is None:
                raise ValidationError({"checked_in": "Only a confirmed registration can check in."})
            if self.checked_in_at is None:
                self.checked_in_at = now

    @property
    def participant_name(self) -> str:
        if self.team is not None:
            return self.team.name
        return describe_user(self.user)["display_name"]

    @property
    def was_confirmed(self) -> bool:
        """Confirmed at some point: a later cancellation or no-show does not undo that."""
        return self.confirmed_at is not None and self.status != self.Status.PENDING

    @property
    def took_part(self) -> bool:
        """Checked in and not since marked a no-show or cancelled."""
        return self.checked_in and self.status == self.Status.CONFIRMED

    def member_ids_at(self, moment: datetime) -> list[int]:
        """The users this registration stands for at ``moment``: the player, or the team then."""
        if self.team is not None:
            return self.team.member_ids_at(moment)
        return [self.user_id] if self.user_id is not None else []

    def describe(self) -> dict[str, Any]:
        """How event metadata names this side: the player (by id) or the team."""
        if self.team is not None:
            return {"kind": "team", "team_id": self.team.pk, "team_name": self.team.name}
        return {"kind": "user", **describe_user(self.user)}


class Match(ValidatedModel):
    class State(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        LIVE = "live", "Live"
        COMPLETED = "completed", "Completed"
        FORFEIT = "forfeit", "Forfeit"
        DISPUTED = "disputed", "Disputed"

    DECIDED = (State.COMPLETED, State.FORFEIT)

    tournament = models.ForeignKey(Tournament, on_delete=models.PROTECT, related_name="matches")
    round = models.PositiveSmallIntegerField(default=1)
    participant1 = models.ForeignKey(Registration, on_delete=models.PROTECT, related_name="+")
    participant2 = models.ForeignKey(Registration, on_delete=models.PROTECT, related_name="+")
    winner = models.ForeignKey(
        Registration, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    loser = models.ForeignKey(
        Registration, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    state = models.CharField(max_length=16, choices=State.choices, default=State.SCHEDULED)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "matches"
        constraints = [
            models.CheckConstraint(
                condition=~Q(participant1=F("participant2")), name="tournaments_match_two_sides"
            ),
            models.CheckConstraint(
                condition=Q(winner__isnull=True)
                | Q(winner=F("participant1"))
                | Q(winner=F("participant2")),
                name="tournaments_match_winner_is_participant",
            ),
            models.CheckConstraint(
                condition=Q(loser__isnull=True)
                | Q(loser=F("participant1"))
                | Q(loser=F("participant2")),
                name="tournaments_match_loser_is_participant",
            ),
            models.CheckConstraint(
                condition=~Q(state__in=["completed", "forfeit"]) | Q(winner__isnull=False),
                name="tournaments_match_decided_has_winner",
            ),
        ]

    def __str__(self) -> str:
        return f"match {self.pk} (round {self.round})"

    def clean(self) -> None:
        if self.participant1_id is None or self.participant2_id is None:
            raise ValidationError("A match needs two participants.")
        if self.participant1_id == self.participant2_id:
            raise ValidationError("A match needs two different participants.")
        self._load_sides()
        sides = {self.participant1_id, self.participant2_id}
        for registration in (self.participant1, self.participant2):
            if registration.tournament_id != self.tournament_id:
                raise ValidationError(
                    {"tournament": f"Registration {registration.pk} is not of this tournament."}
                )
        if self.winner_id is not None and self.winner_id not in sides:
            raise ValidationError({"winner": "The winner must be one of the match's participants."})
        if self.state in self.DECIDED:
            if self.winner_id is None:
                raise ValidationError({"winner": f"A {self.state} match needs a winner."})
            # The loser follows the winner: correcting a result is setting its winner.
            self.loser_id = (sides - {self.winner_id}).pop()
            if self.completed_at is None:
                self.completed_at = timezone.now()
        if self.loser_id is not None:
            if self.loser_id not in sides:
                raise ValidationError({"loser": "The loser must be one of the participants."})
            if self.loser_id == self.winner_id:
                raise ValidationError({"loser": "The winner cannot also be the loser."})

    def _load_sides(self) -> None:
        """Read both sides, their players and teams and the tournament in one query.

        Validation reads the sides and the ledger's translator then names each side's player:
        loaded one relation at a time that was seven queries per saved match.
        """
        relations = (Match.participant1, Match.participant2)
        if all(relation.is_cached(self) for relation in relations):
            return
        loaded = Registration.objects.select_related("tournament", "user__profile", "team").in_bulk(
            [self.participant1_id, self.participant2_id]
        )
        for name, pk in (
            ("participant1", self.participant1_id),
            ("participant2", self.participant2_id),
        ):
            if pk in loaded:  # a missing one is left to the database's foreign key
                setattr(self, name, loaded[pk])
        side = loaded.get(self.participant1_id)
        if (
            side is not None
            and side.tournament_id == self.tournament_id
            and not Match.tournament.is_cached(self)
        ):
            self.tournament = side.tournament


class TournamentResult(ValidatedModel):
    tournament = models.OneToOneField(Tournament, on_delete=models.PROTECT, related_name="result")
    winner = models.ForeignKey(Registration, on_delete=models.PROTECT, related_name="+")
    runner_up = models.ForeignKey(
        Registration, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    third_place = models.ForeignKey(
        Registration, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    fourth_place = models.ForeignKey(
        Registration, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    PLACEMENT_FIELDS = ("winner", "runner_up", "third_place", "fourth_place")

    def __str__(self) -> str:
        return f"result of {self.tournament_id}"

    def placements(self) -> list[tuple[int, Registration]]:
        """(place, registration) for every placement given, 1 to 4."""
        placed = []
        for place, name in enumerate(self.PLACEMENT_FIELDS, start=1):
            if getattr(self, f"{name}_id") is not None:
                placed.append((place, getattr(self, name)))
        return placed

    def clean(self) -> None:
        if self.winner_id is None:
            raise ValidationError({"winner": "A result names its winner."})
        ids = [getattr(self, f"{name}_id") for name in self.PLACEMENT_FIELDS]
        given = [pk for pk in ids if pk is not None]
        if len(given) != len(set(given)):
            raise ValidationError("A registration can hold only one placement.")
        for place, registration in self.placements():
            if registration.tournament_id != self.tournament_id:
                raise ValidationError(
                    {
                        self.PLACEMENT_FIELDS[place - 1]: (
                            f"Registration {registration.pk} is not of this tournament."
                        )
                    }
                )
