"""Coins as the ledger sees them: earned or spent, amount stored positive."""

from __future__ import annotations

from esports.economy.models import DeltaCrownTransaction
from ledger.drafts import EventDraft
from ledger.models import EventType
from ledger.sources import register_source


def translate_transaction(transaction: DeltaCrownTransaction) -> list[EventDraft]:
    amount = abs(transaction.amount)
    metadata: dict[str, object] = {
        "transaction_id": transaction.pk,
        "amount": amount,
        "reason": transaction.reason,
    }
    tournament = transaction.tournament
    if tournament is not None:
        metadata["tournament_id"] = tournament.pk
        metadata["tournament_name"] = tournament.name
    event_type = EventType.COINS_EARNED if transaction.amount > 0 else EventType.COINS_SPENT
    return [
        EventDraft(
            user_id=transaction.wallet.user_id,
            event_type=event_type,
            timestamp=transaction.created_at,
            metadata=metadata,
            amount=amount,
        )
    ]


def register() -> None:
    register_source(
        name="economy.transaction",
        model=DeltaCrownTransaction,
        translate=translate_transaction,
        rows=lambda: DeltaCrownTransaction.objects.select_related("wallet", "tournament"),
    )
