"""Errors the ledger raises on purpose."""


class LedgerError(Exception):
    """Base class of the ledger's own errors."""


class ImmutableEventError(LedgerError):
    """An event row may be appended, never updated or deleted (invariant I4)."""


class UnknownSourceError(LedgerError):
    """A source name that no app registered."""


class InvalidJobError(LedgerError):
    """An operation asked for with parameters it cannot run with (unknown user, kind...)."""
