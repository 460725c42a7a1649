"""Months of events made ahead of time (decision 0014): live recording then never makes a
partition, which takes a lock and a few milliseconds in the writing transaction."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ledger.recorders import recorder
from ledger.recorders.base import month_of


def coming_months(*, today: date, ahead: int) -> list[date]:
    """The month of ``today`` and the ``ahead`` after it, as their first days."""
    months, year, month = [], today.year, today.month
    for _ in range(ahead + 1):
        months.append(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def make_coming_event_months(*, ahead: int | None = None) -> int:
    """Make this month's partition and the next ``ahead`` (``LEDGER_EVENT_MONTHS_AHEAD``) where
    missing; return how many were made. Safe to run at any time, twice, or from two places."""
    if ahead is None:
        ahead = settings.LEDGER_EVENT_MONTHS_AHEAD
    months = coming_months(today=month_of(timezone.now()), ahead=ahead)
    with transaction.atomic():
        return recorder().make_event_months(months)
