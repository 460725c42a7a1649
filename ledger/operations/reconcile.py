"""Reconcile: compare every user's stats with a recompute from events, and find missing events.

Set-based: users are read in keyset chunks and each chunk costs one grouped recompute query and one
stats query per projection, never a query per user. Every projection of the registry is checked:
lifetime stats (where every user gets a row) and the others by their owner column per chunk, or
(a projection of no one user) once, whole; and the archived baselines of streaks and recent
results, which reads add to the hot events, against the counters' baselines. Missing events are
the backfill's convergence as a dry run (with ``fix``, the backfill itself). Repairs rewrite stats
rows from the recompute with the rows locked in user-id order, one transaction per chunk (I1).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from ledger import metrics
from ledger.archive.form import form_drift, rebuild_archived_form
from ledger.models import ErasedSubject, PlayerCount, UserActivity, UserProfileStats
from ledger.models.erasure import user_digest
from ledger.operations.backfill import backfill_activity
from ledger.operations.gdpr import anonymize_user
from ledger.operations.progress import ProgressCallback
from ledger.projections import LIFETIME_STATS, PROJECTIONS, CounterProjection
from ledger.recompute import ProjectionRows
from ledger.services.stats import StatsValues, recompute_stats_for

USER_CHUNK = 2000

EXIT_CLEAN = 0
EXIT_DRIFT = 1
"""Exit status of ``reconcile_user_stats`` when drift or missing events were found (even fixed)."""


@dataclass(frozen=True)
class FieldDrift:
    field: str
    expected: Any
    current: Any


@dataclass(frozen=True)
class DriftedUser:
    user_id: int
    username: str
    fields: list[FieldDrift]
    missing_row: bool = False


@dataclass(frozen=True)
class DriftedRow:
    """A row of a projection other than lifetime stats that differs from its recompute."""

    projection: str
    key: tuple[Any, ...]
    fields: list[FieldDrift]


@dataclass
class ReconcileReport:
    fix: bool
    users_checked: int = 0
    drifted: list[DriftedUser] = field(default_factory=list)
    users_without_stats: int = 0
    missing_events: dict[str, dict[str, int]] = field(default_factory=dict)
    drifted_rows: list[DriftedRow] = field(default_factory=list)
    fixed_users: int = 0
    fixed_rows: int = 0
    created_stats_rows: int = 0
    recorded_events: int = 0
    unerased_users: list[int] = field(default_factory=list)
    """Erased users the ledger still holds events or a stats row of, by id (``fix`` erases them
    again): what a write around the services, a restored backup or (on SQLite) a save racing
    the erasure left."""

    @property
    def missing_events_total(self) -> int:
        return sum(sum(types.values()) for types in self.missing_events.values())

    @property
    def found_problems(self) -> bool:
        return (
            bool(self.drifted)
            or bool(self.drifted_rows)
            or self.missing_events_total > 0
            or bool(self.unerased_users)
        )

    @property
    def exit_code(self) -> int:
        return EXIT_DRIFT if self.found_problems else EXIT_CLEAN

    def as_dict(self, *, with_usernames: bool = True) -> dict[str, Any]:
        """JSON-ready; a job stores it without usernames (its rows outlive an erasure)."""
        return {
            "fix": self.fix,
            "users_checked": self.users_checked,
            "drifted": [
                {
                    "user_id": user.user_id,
                    **({"username": user.username} if with_usernames else {}),
                    "missing_row": user.missing_row,
                    "fields": {
                        f.field: {"expected": _json(f.expected), "current": _json(f.current)}
                        for f in user.fields
                    },
                }
                for user in self.drifted
            ],
            "drifted_rows": [
                {
                    "projection": row.projection,
                    "key": [_json(part) for part in row.key],
                    "fields": {
                        f.field: {"expected": _json(f.expected), "current": _json(f.current)}
                        for f in row.fields
                    },
                }
                for row in self.drifted_rows
            ],
            "fixed_rows": self.fixed_rows,
            "users_without_stats": self.users_without_stats,
            "missing_events": self.missing_events,
            "fixed_users": self.fixed_users,
            "created_stats_rows": self.created_stats_rows,
            "recorded_events": self.recorded_events,
            "unerased_users": self.unerased_users,
            "exit_code": self.exit_code,
        }


def _json(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def reconcile_stats(
    *,
    user_ids: Sequence[int] | None = None,
    fix: bool = False,
    progress: ProgressCallback | None = None,
) -> ReconcileReport:
    """Report (and with ``fix`` repair) drifted stats and missing events; afterwards, with ``fix``,
    every user who was not erased has a stats row."""
    report = ReconcileReport(fix=fix)
    only = set(user_ids) if user_ids is not None else None
    users = get_user_model()._default_manager.order_by("pk")
    if only is not None:
        users = users.filter(pk__in=only)
    n_users = users.count()
    source_total = 0

    def source_progress(done: int, total: int | None) -> None:
        nonlocal source_total
        source_total = total or done
        if progress is not None:
            progress(done, source_total + n_users)

    # Missing events first: with ``fix`` they are recorded through the backfill path, whose fold
    # keeps stats exact, so the drift check below sees the ledger as it now stands.
    walk = backfill_activity(dry_run=not fix, progress=source_progress, only_user_ids=only)
    report.missing_events = walk.events_by_source()
    report.recorded_events = 0 if walk.dry_run else walk.total_events

    erased = set(ErasedSubject.objects.values_list("user_digest", flat=True))
    username_field = get_user_model().USERNAME_FIELD
    last_pk: Any = None
    checked = 0
    while True:
        page = users if last_pk is None else users.filter(pk__gt=last_pk)
        chunk = list(page.values_list("pk", username_field)[:USER_CHUNK])
        if not chunk:
            break
        last_pk = chunk[-1][0]
        checked += len(chunk)
        if erased:  # erased subjects get no stats row back, and keep no events
            erased_ids = {pk for pk, _ in chunk if user_digest(pk) in erased}
            _check_erased(sorted(erased_ids), report=report, fix=fix)
            chunk = [(pk, name) for pk, name in chunk if pk not in erased_ids]
        _check_chunk(chunk, report=report, fix=fix)
        for projection in _owned_projections():
            _check_rows(projection, [pk for pk, _ in chunk], report=report, fix=fix)
        _check_form([pk for pk, _ in chunk], report=report, fix=fix)
        if progress is not None:
            progress(source_total + checked, source_total + n_users)
    report.users_checked = checked
    for projection in PROJECTIONS:
        if projection.owner is None:
            _check_rows(projection, None, report=report, fix=fix)
    _check_player_count(report=report, fix=fix)
    metrics.reconcile_finished(
        full=only is None,
        drifted_users=len(report.drifted),
        missing_events=report.missing_events_total,
        fixed_users=report.fixed_users,
        recorded_events=report.recorded_events,
        unerased_users=len(report.unerased_users),
        erased_again=len(report.unerased_users) if fix else 0,
    )
    return report


def _check_erased(user_ids: list[int], *, report: ReconcileReport, fix: bool) -> None:
    """Erased users who still own events or a stats row: erase them again (it is idempotent).

    On PostgreSQL a save and an erasure of the same user are ordered by the user's row lock
    (decision 0006), so this is the backstop: for SQL written around the services, a backup
    restored over an erasure, and SQLite, where nothing orders the two.
    """
    if not user_ids:
        return
    traces = set(
        UserActivity.objects.filter(user_id__in=user_ids).values_list("user_id", flat=True)
    ) | set(UserProfileStats.objects.filter(user_id__in=user_ids).values_list("user_id", flat=True))
    if not traces:
        return
    report.unerased_users.extend(sorted(traces))
    if fix:
        for user in get_user_model()._default_manager.filter(pk__in=traces).order_by("pk"):
            anonymize_user(user=user)


def _check_chunk(chunk: list[tuple[int, str]], *, report: ReconcileReport, fix: bool) -> None:
    ids = [pk for pk, _ in chunk]
    if not ids:
        return
    expected = recompute_stats_for(user_ids=ids)
    stored = {
        row["user_id"]: row
        for row in UserProfileStats.objects.filter(user_id__in=ids).values(
            "user_id", *LIFETIME_STATS.fields
        )
    }
    to_fix: list[int] = []
    without_row: list[int] = []
    for pk, username in chunk:
        current = stored.get(pk)
        if current is None:
            report.users_without_stats += 1
            without_row.append(pk)
        diffs = _diff(expected[pk], current)
        if diffs:
            report.drifted.append(DriftedUser(pk, username, diffs, missing_row=current is None))
            to_fix.append(pk)
    if fix and (to_fix or without_row):
        created, fixed = _repair(sorted(set(to_fix) | set(without_row)), without_row)
        report.created_stats_rows += created
        report.fixed_users += fixed


def _diff(expected: StatsValues, current: dict[str, Any] | None) -> list[FieldDrift]:
    diffs = []
    for name in LIFETIME_STATS.fields:
        now = current[name] if current is not None else (None if name == "last_activity_at" else 0)
        if expected[name] != now:
            diffs.append(FieldDrift(name, expected[name], now))
    return diffs


def _repair(user_ids: list[int], without_row: Collection[int]) -> tuple[int, int]:
    """Rewrite these users' stats from a recompute taken under their row locks (user-id order)."""
    with transaction.atomic():
        existing = set(
            UserProfileStats.objects.filter(user_id__in=without_row).values_list(
                "user_id", flat=True
            )
        )
        missing = [pk for pk in without_row if pk not in existing]
        UserProfileStats.objects.bulk_create(
            [UserProfileStats(user_id=pk) for pk in missing], ignore_conflicts=True
        )
        rows = list(
            UserProfileStats.objects.select_for_update()
            .filter(user_id__in=user_ids)
            .order_by("user_id")
        )
        fresh = recompute_stats_for(user_ids=user_ids)
        now = timezone.now()
        changed = []
        for row in rows:
            values = fresh[row.user_id]
            if any(getattr(row, name) != values[name] for name in LIFETIME_STATS.fields):
                for name in LIFETIME_STATS.fields:
                    setattr(row, name, values[name])
                row.stats_updated_at = now
                changed.append(row)
        if changed:
            UserProfileStats.objects.bulk_update(
                changed, [*LIFETIME_STATS.fields, "stats_updated_at"], batch_size=500
            )
    return len(missing), len(changed)


def _owned_projections() -> list[CounterProjection]:
    """The projections checked per chunk of users besides lifetime stats (``_check_chunk``)."""
    return [p for p in PROJECTIONS if p is not LIFETIME_STATS and p.owner is not None]


def _stored_rows(projection: CounterProjection, user_ids: list[int] | None) -> ProjectionRows:
    rows = projection.model._default_manager.all()
    if user_ids is not None:
        assert projection.owner is not None
        rows = rows.filter(**{f"{projection.owner}__in": user_ids})
    return {
        tuple(row[name] for name in projection.key): {name: row[name] for name in projection.fields}
        for row in rows.values(*projection.key, *projection.fields)
    }


def _row_diffs(
    projection: CounterProjection, expected: ProjectionRows, stored: ProjectionRows
) -> dict[tuple[Any, ...], list[FieldDrift]]:
    """Per key, the fields that differ; a row on one side only differs from no row (zeros)."""
    nothing = {**dict.fromkeys(projection.counters, 0), projection.latest: None}
    diffs: dict[tuple[Any, ...], list[FieldDrift]] = {}
    for key in sorted(set(expected) | set(stored), key=repr):
        want, have = expected.get(key, nothing), stored.get(key, nothing)
        fields = [
            FieldDrift(name, want[name], have[name])
            for name in projection.fields
            if want[name] != have[name]
        ]
        if fields or (key in expected) != (key in stored):
            diffs[key] = fields
    return diffs


def _check_rows(
    projection: CounterProjection,
    user_ids: list[int] | None,
    *,
    report: ReconcileReport,
    fix: bool,
) -> None:
    """Compare a projection's rows (of these users, or all) with their recompute; with ``fix``,
    rewrite those that differ from a recompute taken under the rows' locks."""
    if user_ids is not None and not user_ids:
        return
    diffs = _row_diffs(
        projection, projection.recompute(user_ids), _stored_rows(projection, user_ids)
    )
    report.drifted_rows.extend(
        DriftedRow(projection.name, key, fields) for key, fields in diffs.items()
    )
    if fix and diffs:
        report.fixed_rows += _repair_rows(projection, user_ids)


def _repair_rows(projection: CounterProjection, user_ids: list[int] | None) -> int:
    """Rewrite the rows from a recompute. Writers of these users' events lock their lifetime
    stats rows first (the registry's order), so holding those orders the repair against them;
    a projection of no one user is locked whole, row by row in key order."""
    model = projection.model
    with transaction.atomic():
        if user_ids is not None:
            list(
                UserProfileStats.objects.select_for_update()
                .filter(user_id__in=user_ids)
                .order_by("user_id")
                .values_list("user_id")
            )
        else:
            list(
                model._default_manager.select_for_update()
                .order_by(*projection.key)
                .values_list("pk")
            )
        expected = projection.recompute(user_ids)
        stored = _stored_rows(projection, user_ids)
        diffs = _row_diffs(projection, expected, stored)
        now = timezone.now()
        for key in diffs:
            where = dict(zip(projection.key, key, strict=True))
            if key not in expected:
                model._default_manager.filter(**where).delete()
            elif key in stored:
                model._default_manager.filter(**where).update(
                    **expected[key], **{projection.touched: now}
                )
            else:
                model._default_manager.create(**where, **expected[key])
    return len(diffs)


def _check_form(user_ids: list[int], *, report: ReconcileReport, fix: bool) -> None:
    """Streaks and recent results are read from the hot events plus their archived baselines
    (decision 0027): those baselines must count the archived wins, losses and matches played
    the counters' baselines count; with ``fix`` they are rebuilt from the archive files."""
    if not user_ids:
        return
    drift = form_drift(user_ids)
    for key, (expected, stored) in drift.items():
        fields = [
            FieldDrift(name, expected[name], stored[name])
            for name in expected
            if expected[name] != stored[name]
        ]
        report.drifted_rows.append(DriftedRow("form", key, fields))
    if fix and drift:
        rebuild_archived_form(user_ids=sorted({user_id for user_id, _ in drift}))
        report.fixed_rows += len(drift)


def _check_player_count(*, report: ReconcileReport, fix: bool) -> None:
    """The player count (rarity's denominator) against a count of the stats rows; with ``fix``,
    set from a count taken while holding the count's row, which new stats rows wait for."""
    with transaction.atomic():
        if fix:
            list(PlayerCount.objects.select_for_update().filter(id=1).values_list("id"))
        expected = UserProfileStats.objects.count()
        stored = PlayerCount.objects.filter(id=1).values_list("players", flat=True).first() or 0
        if stored == expected:
            return
        report.drifted_rows.append(
            DriftedRow("players", (), [FieldDrift("players", expected, stored)])
        )
        if fix:
            PlayerCount.objects.update_or_create(id=1, defaults={"players": expected})
            report.fixed_rows += 1
