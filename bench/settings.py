"""Benchmark-only settings: the platform's own, plus the peer (django-activity-stream).

The peer's tables exist only in benchmark databases: ``config.settings`` never lists it. The
peer keeps its defaults (it fetches generic relations of a stream), as its users get it.
"""

from config.settings import *  # noqa: F403
from config.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "actstream"]
