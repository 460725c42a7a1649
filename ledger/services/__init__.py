"""The ledger's services: every write goes through here.

``record_activity`` is the one write path; ``converge_rows`` brings the ledger in line with
source rows; ``recompute_stats`` is what stored stats must always equal (I1).
"""

from ledger.services.convergence import converge_rows, plan_convergence
from ledger.services.recording import record_activity
from ledger.services.stats import recompute_stats, recompute_stats_for

__all__ = [
    "converge_rows",
    "plan_convergence",
    "recompute_stats",
    "recompute_stats_for",
    "record_activity",
]
