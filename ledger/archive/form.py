"""The archived part of streaks and recent results (decision 0027).

Streaks and recent results are read from the hot events (decision 0021); as a month is archived,
each player's standing match events of that month are folded into what the reads add for them:
the month's win runs (of every game, and of each game: ``StreakBaseline``), which compose in
month order whatever order the months are archived in, and the player's newest archived results
(``RecentResultsBaseline``), merged by match order and cut to ``RECENT_KEPT``.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from itertools import groupby
from operator import itemgetter
from typing import Any

from django.db.models import Exists, OuterRef

from ledger.fold import game_of
from ledger.models import (
    ArchivedEvent,
    EventType,
    RecentResultsBaseline,
    StreakBaseline,
    UserActivity,
)
from ledger.selectors.form import (
    DECIDED,
    MATCH_ORDER,
    RECENT_KEPT,
    PlayedMatch,
    Runs,
    outcome_of,
    runs_of,
)

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
            event_type__in=(EventType.MATCH_PLAYED, *DECIDED),
            user_id__isnull=False,
            reversed_by__isnull=True,
        )
        .filter(Exists(archived))
        .exclude(Exists(cancelled))
        .order_by("user_id", *MATCH_ORDER)
        .values_list(
            "user_id", "event_type", "timestamp", "source_model", "source_id", "id", "metadata"
        )
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
        StreakBaseline.objects.bulk_update(changed, RUNS_FIELDS, batch_size=1000)

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


RUNS_FIELDS = [field.name for field in dataclasses.fields(Runs)]


def stored_runs(row: StreakBaseline) -> Runs:
    return Runs(**{name: getattr(row, name) for name in RUNS_FIELDS})


def newest(results: Sequence[Result]) -> list[Result]:
    """The newest ``RECENT_KEPT`` of ``results``, newest first, in match order."""
    return sorted(results, key=lambda r: (datetime.fromisoformat(r[0]), r[1], r[2]), reverse=True)[
        :RECENT_KEPT
    ]
