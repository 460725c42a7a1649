"""DeltaCoin wallets and their transactions."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from esports.common import ValidatedModel


class DeltaCrownWallet(ValidatedModel):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="wallet"
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"wallet of {self.user_id}"


class DeltaCrownTransaction(ValidatedModel):
    class Reason(models.TextChoices):
        WINNER = "winner", "Prize (winner)"
        RUNNER_UP = "runner_up", "Prize (runner-up)"
        TOP4 = "top4", "Prize (top 4)"
        PARTICIPATION = "participation", "Participation reward"
        ENTRY_FEE = "entry_fee", "Entry fee"
        PURCHASE = "purchase", "Purchase"
        REFUND = "refund", "Refund"
        ADJUSTMENT = "adjustment", "Adjustment"

    wallet = models.ForeignKey(
        DeltaCrownWallet, on_delete=models.PROTECT, related_name="transactions"
    )
    amount = models.BigIntegerField(help_text="Positive earns, negative spends.")
    reason = models.CharField(max_length=16, choices=Reason.choices)
    tournament = models.ForeignKey(
        "tournaments.Tournament",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="transactions",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="economy_transaction_nonzero")
        ]

    def __str__(self) -> str:
        return f"{self.amount:+d} ({self.reason})"

    def clean(self) -> None:
        if self.amount == 0:
            raise ValidationError({"amount": "A transaction moves a non-zero amount."})
