"""Converge source rows to their translation (DESIGN.md, "The mechanism").

Events the translation holds and the ledger lacks are appended; events the ledger holds (net of
reversals) that the translation no longer holds are cancelled by reversal events (I8); the rest
is left alone, so converging a row twice changes nothing (I2). Live capture, backfill and
reconcile's missing-event check all come through here.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from django.db import connection, models, transaction
from django.db.models import BooleanField, Value
from django.utils import timezone

from ledger.drafts import EventDraft, NewEvent, RecordedEvent
from ledger.models import ArchivedEvent, ErasedSubject, EventType, UserActivity
from ledger.models.erasure import user_digest
from ledger.recorders import recorder
from ledger.services.recording import record_activity
from ledger.sources import Source, Unsettled, dependents_of


@dataclass(frozen=True, slots=True)
class _Recorded:
    id: int
    event_type: str
    user_id: int
    occurrence: int
    amount: int
    timestamp: Any
    archived: bool = False
    """Moved to the archive: it stands as recorded and is never reversed (decision 0017)."""


@dataclass
class ConvergenceResult:
    """What converging some rows appended (or, in a dry run, would append)."""

    planned: list[NewEvent] = field(default_factory=list)
    recorded: list[RecordedEvent] = field(default_factory=list)


def converge_rows(
    *, source: Source, rows: Sequence[models.Model], dry_run: bool = False
) -> ConvergenceResult:
    """Bring the ledger in line with what ``rows`` stand for now; in one transaction."""
    if dry_run:
        return ConvergenceResult(planned=plan_convergence(source=source, rows=rows))
    with transaction.atomic(savepoint=False):  # the plan's reads and locks hold for the write
        plan = plan_convergence(source=source, rows=rows)
        result = ConvergenceResult(planned=plan)
        if plan:
            result.recorded = record_activity(events=plan)
    return result


def converge_saved(*, source: Source, row: models.Model) -> None:
    """Converge a saved row and the rows that depend on it (``register_dependents``), in the
    order every writer keeps:
    source rows first, then the users and projection rows that recording locks.

    The saved row is held by its own UPDATE; the dependents are locked here, source by source in
    primary-key order, before anything is recorded. A source row waited for while holding
    projection locks could deadlock with a backfill batch, which locks its rows first
    (decision 0004). NO KEY: foreign-key checks against the rows are not blocked; waiting for a
    transaction that is saving one of them means it is read as committed, so a plan never pairs
    a stale row with fresher events."""
    locked = [
        (dependent, list(rows.order_by("pk").select_for_update(of=("self",), no_key=True)))
        for dependent, rows in dependents_of(source.name, row)
    ]
    converge_rows(source=source, rows=[row])
    for dependent, dependent_rows in locked:
        if dependent_rows:
            converge_rows(source=dependent, rows=dependent_rows)


def plan_convergence(*, source: Source, rows: Sequence[models.Model]) -> list[NewEvent]:
    """The reversals and new events that would converge ``rows``: reversals first."""
    return plan_translations(source=source, translations=translate_rows(source, rows))


def translate_rows(source: Source, rows: Iterable[models.Model]) -> dict[int, Sequence[EventDraft]]:
    """What each row stands for, by primary key; unsettled rows are left out (what is recorded
    for them stands until they settle, e.g. a disputed match)."""
    translations: dict[int, Sequence[EventDraft]] = {}
    for row in rows:
        translation = source.translate(row)
        if not isinstance(translation, Unsettled):
            translations[int(row.pk)] = translation
    return translations


def plan_translations(
    *, source: Source, translations: Mapping[int, Sequence[EventDraft]]
) -> list[NewEvent]:
    """The reversals and new events that bring the ledger to ``translations`` (source row pk to
    its drafts): reversals first. Reads what is recorded, so call it in the writing transaction.

    Erased users get nothing, reversals included; they are looked for only when there is
    something to record (a row saved unchanged costs one read), under the users' lock."""
    if not translations:
        return []

    recorded = _recorded_by_source_id(source.name, list(translations))
    now = timezone.now()
    reversals: list[NewEvent] = []
    reversed_events: list[_Recorded] = []
    appends: list[NewEvent] = []
    for source_id, drafts in translations.items():
        active, reversed_count = recorded.get(source_id, ({}, Counter()))
        wanted: dict[tuple[str, int], EventDraft] = {}
        for draft in drafts:
            wanted.setdefault((draft.event_type, draft.user_id), draft)
        # An event is held when its kind and user are wanted with the same amount: a corrected
        # amount (a transaction edited from 500 to 300) is a changed outcome like a new winner.
        # An archived event is held whatever the row says now: corrections stop at the archive.
        stale = {
            key
            for key, event in active.items()
            if not event.archived and (key not in wanted or wanted[key].amount != event.amount)
        }
        for key, event in active.items():  # in recorded order: a stable feed
            if key in stale:
                reversals.append(_reversal_of(event, source.name, source_id, now))
                reversed_events.append(event)
        for key, draft in wanted.items():
            if key not in active or key in stale:
                # occurrence: earlier reversals, plus the one appended now for a stale event
                occurrence = reversed_count[key] + (key in stale)
                appends.append(
                    draft.keyed(
                        source_model=source.name, source_id=source_id, occurrence=occurrence
                    )
                )
    if not reversals and not appends:
        return []
    erased = _erased_users_held([event.user_id for event in reversals + appends])
    if erased:
        kept = [i for i, reversal in enumerate(reversals) if reversal.user_id not in erased]
        reversals = [reversals[i] for i in kept]
        reversed_events = [reversed_events[i] for i in kept]
        appends = [event for event in appends if event.user_id not in erased]
    if reversals:
        reversals = _with_target_metadata(reversals, reversed_events)
    return reversals + appends


def _erased_users_held(user_ids: Iterable[int]) -> set[int]:
    """Which of the users are erased, read after holding them against an erasure in progress
    (in the writing transaction; see ``Recorder.hold_users``)."""
    users = set(user_ids)
    if connection.in_atomic_block:
        recorder().hold_users(users)
    return _erased_user_ids(users)


def _with_target_metadata(reversals: list[NewEvent], targets: list[_Recorded]) -> list[NewEvent]:
    """A reversal shows what it corrects: copy its target's metadata, read only for these few."""
    metadata = dict(
        UserActivity.objects.filter(id__in=[t.id for t in targets])
        .order_by()
        .values_list("id", "metadata")
    )
    return [
        replace(reversal, metadata={**metadata[target.id], **reversal.metadata})
        for reversal, target in zip(reversals, targets, strict=True)
    ]


def _reversal_of(event: _Recorded, source_name: str, source_id: int, now: Any) -> NewEvent:
    return NewEvent(
        user_id=event.user_id,
        event_type=EventType.REVERSAL,
        timestamp=now,
        metadata={
            "reverses": {
                "id": event.id,
                "event_type": event.event_type,
                "timestamp": event.timestamp.isoformat(),
            },
        },
        source_model=source_name,
        source_id=source_id,
        occurrence=event.occurrence,
        amount=event.amount,
        reverses_id=event.id,
        reversed_type=event.event_type,
    )


def _recorded_by_source_id(
    source_name: str, source_ids: list[int]
) -> dict[int, tuple[dict[tuple[str, int], _Recorded], Counter[tuple[str, int]]]]:
    """Per source row: its standing events by (type, user), and how many of each were reversed;
    archived events count as recorded (I2, I9). One statement reads both tables (UNION ALL), so
    a live save costs no extra round trip, and both are read in one snapshot of the statement:
    an archive run's move commits wholly before or after it."""
    filters = {
        # The bounds keep the lookup an index range scan even when the planner's statistics
        # are stale (a freshly backfilled table): a batch's ids are one keyset range.
        "source_id__gte": min(source_ids),
        "source_id__lte": max(source_ids),
        "source_model": source_name,
        "user_id__isnull": False,
    }
    columns = (
        "id",
        "source_id",
        "event_type",
        "user_id",
        "occurrence",
        "amount",
        "timestamp",
        "reverses_id",
    )
    hot = UserActivity.objects.filter(
        recorder().in_values(UserActivity, "source_id", source_ids), **filters
    )
    archived = ArchivedEvent.objects.filter(
        recorder().in_values(ArchivedEvent, "source_id", source_ids), **filters
    )
    moved = Value(True, output_field=BooleanField())
    kept = Value(False, output_field=BooleanField())
    both = (
        hot.order_by()
        .annotate(moved=kept)
        .values_list(*columns, "moved")
        .union(archived.order_by().annotate(moved=moved).values_list(*columns, "moved"), all=True)
    )
    rows = sorted(both)  # by id: reversals then follow the order their targets were recorded in
    events: dict[int, list[_Recorded]] = defaultdict(list)
    reversed_ids: set[int] = set()
    for pk, source_id, event_type, user_id, occurrence, amount, ts, reverses_id, moved in rows:
        if reverses_id is not None:
            reversed_ids.add(reverses_id)
        else:
            events[source_id].append(
                _Recorded(pk, event_type, user_id, occurrence, amount, ts, archived=moved)
            )
    result: dict[int, tuple[dict[tuple[str, int], _Recorded], Counter[tuple[str, int]]]] = {}
    for source_id, source_events in events.items():
        active: dict[tuple[str, int], _Recorded] = {}
        reversed_count: Counter[tuple[str, int]] = Counter()
        for event in source_events:
            key = (event.event_type, event.user_id)
            if event.id in reversed_ids:
                reversed_count[key] += 1
            else:
                active[key] = event
        result[source_id] = (active, reversed_count)
    return result


def _erased_user_ids(user_ids: Iterable[int]) -> set[int]:
    """Users erased under GDPR Article 17: nothing is recorded for them again."""
    digests = {user_digest(user_id): user_id for user_id in user_ids}
    if not digests:
        return set()
    found = ErasedSubject.objects.filter(
        recorder().in_values(ErasedSubject, "user_digest", list(digests))
    ).values_list("user_digest", flat=True)
    return {digests[digest] for digest in found}
