"""Follows are personal data: exported with the user and erased with them (GDPR Art. 15, 17)."""

from __future__ import annotations

from esports.social.selectors import follows_of
from esports.social.services import erase_follows
from ledger.personal_data import register_personal_data


def register() -> None:
    register_personal_data(name="follows", export=follows_of, erase=erase_follows)
