"""Operations on the ledger: backfill, reconcile, GDPR export and anonymization, run as jobs."""
