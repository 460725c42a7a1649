"""The ledger's services: every write goes through here."""
