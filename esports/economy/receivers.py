"""Every user gets a wallet the moment they exist."""

from typing import Any

from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver

from esports.economy.models import DeltaCrownWallet


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="economy:create-wallet")
def create_wallet(sender: Any, instance: Any, created: bool, raw: bool = False, **_: Any) -> None:
    if created and not raw:
        DeltaCrownWallet.objects.get_or_create(user=instance)
