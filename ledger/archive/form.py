"""The archived part of streaks and recent results (decision 0027).

Streaks and recent results are read from the hot events (decision 0021); as a month is archived,
each player's standing match events of that month are folded into what the reads add for them:
the month's win runs (of every game, and of each game: ``StreakBaseline``), which compose in
month order whatever order the months are archived in, and the player's newest archived results
(``RecentResultsBaseline``), merged by match order and cut to ``RECENT_KEPT``.

Reconcile checks them against the counters' baselines (the archived wins, losses and matches
played agree with them) and rebuilds those that differ from the archive files.
"""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import date, datetime
from itertools import groupby
from operator import itemgetter
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Sum
from django.db.models.functions import TruncMonth

from ledger.archive import files
from ledger.archive.baselines import label
from ledger.archive.storage import ArchiveStorage, archive_storage
from ledger.fold import game_of
from ledger.models import (
    ArchivedEvent,
    ArchivedFile,
    EventType,
    ProjectionBaseline,
    RecentResultsBaseline,
    StreakBaseline,
    UserActivity,
)
from ledger.projections import GAME_STATS, LIFETIME_STATS
from ledger.selectors.form import (
    DECIDED,
    MATCH_ORDER,
    RECENT_KEPT,
    RUNS_FIELDS,
    PlayedMatch,
    Runs,
    outcome_of,
    runs_of,
)

MATCH_TYPES = (EventType.MATCH_PLAYED, *DECIDED)
MATCH_COLUMNS = (
    "user_id",
    "event_type",
    "timestamp",
    "source_model",
    "source_id",
    "id",
    "metadata",
)
"""What the fold reads of a match event (``MonthForm.add``), from the table or a file."""

USER_BATCH = 1000
"""Players whose month is folded and saved at a time (memory: one player's month of matches)."""

Result = list[Any]
"""A kept result: [timestamp (ISO), source id, event id, outcome, game, match id]."""


def fold_archived_form(*, month: date, start: datetime, end: datetime) -> None:
    """Fold the month's standing match events whose once-keys were just kept (the ones being
    archived) into the baselines, player by player; in the archiving transaction, before the
    events leave the hot table. A reversal never precedes its target, and later months are
    archived first, so a cancelled event's reversal is hot or already archived."""
    archived = ArchivedEvent.objects.filter(
        timestamp__gte=start, timestamp__lt=end, pk=OuterRef("pk")
    )
    cancelled = ArchivedEvent.objects.filter(reverses_id=OuterRef("pk"))
    rows = (
        UserActivity.objects.filter(
            timestamp__gte=start,
            timestamp__lt=end,
            event_type__in=MATCH_TYPES,
            user_id__isnull=False,
            reversed_by__isnull=True,
        )
        .filter(Exists(archived))
        .exclude(Exists(cancelled))
        .order_by("user_id", *MATCH_ORDER)
        .values_list(*MATCH_COLUMNS)
    )
    batch = MonthForm(month)
    for user_id, events in groupby(rows.iterator(chunk_size=2000), key=itemgetter(0)):
        batch.add(user_id, list(events))
        if len(batch.runs) >= USER_BATCH:
            batch.save()
            batch = MonthForm(month)
    batch.save()


class MonthForm:
    """One month's runs and newest results of a batch of players."""

    def __init__(self, month: date) -> None:
        self.month = month
        self.runs: dict[int, dict[str, Runs]] = {}
        self.recent: dict[int, list[Result]] = {}

    def add(self, user_id: int, events: Sequence[tuple[Any, ...]]) -> None:
        """Fold one player's events of the month, in match order."""
        outcomes: dict[tuple[str, int], str] = {}
        decided: dict[str, list[bool]] = defaultdict(list)
        for _, kind, _, source_model, source_id, _, metadata in events:
            if kind == EventType.MATCH_PLAYED:
                continue
            outcomes[(source_model, source_id)] = kind
            decided[""].append(kind == EventType.MATCH_WON)
            game = game_of(metadata)
            if game is not None:
                decided[game].append(kind == EventType.MATCH_WON)
        self.runs[user_id] = {game: runs_of(won) for game, won in decided.items()}
        played = [event for event in events if event[1] == EventType.MATCH_PLAYED]
        results = []
        for _, _, at, source_model, source_id, pk, metadata in reversed(played[-RECENT_KEPT:]):
            kind = outcomes.get((source_model, source_id))
            match = PlayedMatch.of(outcome_of(kind), at, metadata)
            results.append(
                [at.isoformat(), source_id, pk, match.outcome, match.game, match.match_id]
            )
        self.recent[user_id] = results

    def save(self) -> None:
        """Compose the month's runs after those stored for it (an earlier part of the month),
        and merge the results into the stored ones, with the rows locked in key order."""
        self._save_runs()
        self._save_recent()

    def _save_runs(self) -> None:
        users = sorted(user_id for user_id, games in self.runs.items() if games)
        stored = {
            (row.user_id, row.game): row
            for row in StreakBaseline.objects.select_for_update()
            .filter(user_id__in=users, month=self.month)
            .order_by("user_id", "game")
        }
        created, changed = [], []
        for user_id in users:
            for game, runs in sorted(self.runs[user_id].items()):
                row = stored.get((user_id, game))
                if row is None:
                    created.append(
                        StreakBaseline(
                            user_id=user_id, game=game, month=self.month, **dataclasses.asdict(runs)
                        )
                    )
                    continue
                composed = stored_runs(row).then(runs)
                for name, value in dataclasses.asdict(composed).items():
                    setattr(row, name, value)
                changed.append(row)
        StreakBaseline.objects.bulk_create(created, batch_size=1000)
        StreakBaseline.objects.bulk_update(changed, list(RUNS_FIELDS), batch_size=1000)

    def _save_recent(self) -> None:
        users = sorted(user_id for user_id, results in self.recent.items() if results)
        stored = {
            row.user_id: row
            for row in RecentResultsBaseline.objects.select_for_update()
            .filter(user_id__in=users)
            .order_by("user_id")
        }
        created, changed = [], []
        for user_id in users:
            row = stored.get(user_id)
            if row is None:
                created.append(RecentResultsBaseline(user_id=user_id, results=self.recent[user_id]))
                continue
            row.results = newest([*row.results, *self.recent[user_id]])
            changed.append(row)
        RecentResultsBaseline.objects.bulk_create(created, batch_size=1000)
        RecentResultsBaseline.objects.bulk_update(changed, ["results"], batch_size=1000)


def stored_runs(row: StreakBaseline) -> Runs:
    return Runs(**{name: getattr(row, name) for name in RUNS_FIELDS})


def newest(results: Sequence[Result]) -> list[Result]:
    """The newest ``RECENT_KEPT`` of ``results``, newest first, in match order."""
    return sorted(results, key=lambda r: (datetime.fromisoformat(r[0]), r[1], r[2]), reverse=True)[
        :RECENT_KEPT
    ]


Counts = dict[str, int]
"""What a baseline says of a player's archived matches: ``decided`` and ``won`` (of every game,
``game`` empty, or one), and ``kept`` results (of every game)."""


def form_drift(user_ids: Collection[int]) -> dict[tuple[int, str], tuple[Counts, Counts]]:
    """The players' (and games') form baselines that disagree with their counters' baselines,
    as (what the counters say, what the form baselines hold), in three queries."""
    expected: dict[tuple[int, str], Counts] = {}
    counted = ProjectionBaseline.objects.filter(
        projection__in=(label(LIFETIME_STATS), label(GAME_STATS)), user_id__in=list(user_ids)
    ).values_list("key", "counters")
    for text, counters in counted:
        user_id, *game = json.loads(text)
        won, lost = int(counters.get("matches_won", 0)), int(counters.get("matches_lost", 0))
        counts = {"decided": won + lost, "won": won}
        if not game:
            counts["kept"] = min(RECENT_KEPT, int(counters.get("matches_played", 0)))
        expected[(user_id, game[0] if game else "")] = counts
    stored: dict[tuple[int, str], Counts] = defaultdict(dict)
    runs = (
        StreakBaseline.objects.filter(user_id__in=list(user_ids))
        .values("user_id", "game")
        .order_by()
        .annotate(decided=Sum("decided"), won=Sum("won"))
    )
    for row in runs:
        stored[(row["user_id"], row["game"])] = {"decided": row["decided"], "won": row["won"]}
    kept = RecentResultsBaseline.objects.filter(user_id__in=list(user_ids))
    for user_id, results in kept.values_list("user_id", "results"):
        stored[(user_id, "")]["kept"] = len(results)
    drift = {}
    for key in sorted(set(expected) | set(stored)):
        nothing = {"decided": 0, "won": 0} | ({} if key[1] else {"kept": 0})
        want = nothing | expected.get(key, {})
        have = nothing | stored.get(key, {})
        if want != have:
            drift[key] = (want, have)
    return drift


def rebuild_archived_form(
    *, user_ids: Collection[int], storage: ArchiveStorage | None = None
) -> None:
    """Fold the players' archived matches again from the archive files (each verified first),
    every part of a month together in match order, in place of their form baselines:
    reconcile's repair, and what fills them for months archived before they existed."""
    wanted = set(user_ids)
    months = (
        ArchivedEvent.objects.filter(user_id__in=list(wanted))
        .annotate(month=TruncMonth("timestamp"))
        .order_by()
        .values_list("month", flat=True)
        .distinct()
    )
    events: dict[date, list[tuple[Any, ...]]] = defaultdict(list)
    cancelled: set[int] = set()
    storage = storage or archive_storage()
    wanted_months = [month.date() if isinstance(month, datetime) else month for month in months]
    for archived in ArchivedFile.objects.filter(month__in=wanted_months).order_by("month", "part"):
        for row in files.read_rows(storage, archived):
            if row["user_id"] not in wanted:
                continue
            if row["reverses_id"] is not None:
                cancelled.add(row["reverses_id"])
            elif row["event_type"] in MATCH_TYPES:
                events[archived.month].append(tuple(row[name] for name in MATCH_COLUMNS))
    with transaction.atomic():
        StreakBaseline.objects.filter(user_id__in=list(wanted)).delete()
        RecentResultsBaseline.objects.filter(user_id__in=list(wanted)).delete()
        for month, theirs in sorted(events.items()):
            standing = sorted(
                (event for event in theirs if event[5] not in cancelled),
                key=itemgetter(0, 2, 4, 5),  # the player, then match order
            )
            batch = MonthForm(month)
            for user_id, matches in groupby(standing, key=itemgetter(0)):
                batch.add(user_id, list(matches))
            batch.save()
