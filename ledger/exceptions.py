"""Errors the ledger raises on purpose."""


class LedgerError(Exception):
    """Base class of the ledger's own errors."""


class ImmutableEventError(LedgerError):
    """An event row may be appended, never updated or deleted (invariant I4)."""


class UnknownSourceError(LedgerError):
    """A source name that no app registered."""


class InvalidJobError(LedgerError):
    """An operation asked for with parameters it cannot run with (unknown user, kind...)."""


class ArchiveCorruptedError(LedgerError):
    """An archive file is missing or does not match its recorded checksum: it is never read."""
