"""Benchmarks: the ledger measured side by side with the raw-SQL floor and a peer (issue 6).

Run ``python -m bench --quick`` or ``python -m bench --full [--json PATH]``; see docs/benchmarks.md.
"""
