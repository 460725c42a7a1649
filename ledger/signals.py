"""Signals the ledger sends. Receivers run after the commit (I5): a rollback announces nothing."""

from django.dispatch import Signal

activity_recorded = Signal()
"""Sent once per committed batch with ``events``: a tuple of ``RecordedEvent``."""
