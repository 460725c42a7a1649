from tests.ledger.archive.history import archive_dir

__all__ = ["archive_dir"]
