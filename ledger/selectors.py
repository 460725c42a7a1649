"""Read-side queries of the ledger: feed pages, stats, histories, periods, leaderboards, jobs.

Each selector is one set-based query (or a fixed few) that returns plain values, so a page of
one row and a page of a hundred cost the same number of round trips. Pages are keyset pages:
a cursor is a position (a sort key), never an OFFSET, and it bounds the index range with a
redundant ``<=`` on the leading sort column so the planner scans a range instead of filtering.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, Literal, TypeVar

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import (
    BigIntegerField,
    CharField,
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    Max,
    Min,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce, TruncMonth, TruncWeek
from django.utils.dateparse import parse_datetime

from ledger.filters import ActivityFilter, LedgerJobFilter, apply_filter
from ledger.fold import KindTotal, fold_totals
from ledger.models import EventType, LedgerJob, UserActivity, UserProfileStats
from ledger.models.stats import COUNTER_FIELDS

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100

ECONOMY_TYPES: tuple[str, ...] = (EventType.COINS_EARNED, EventType.COINS_SPENT)

FEED_FIELDS: tuple[str, ...] = (
    "id",
    "user_id",
    "event_type",
    "timestamp",
    "metadata",
    "source_model",
    "source_id",
    "amount",
    "reverses_id",
)
"""A feed row's columns: all from the event's own row, so a page joins nothing.

A reversal names the type it cancels in ``metadata.reverses.event_type`` (written by
convergence); a single node also reads it from the cancelled row itself."""

REVERSED_TYPE = "metadata__reverses__event_type"
NON_ECONOMY_TYPES: tuple[str, ...] = tuple(
    t for t in EventType.values if t not in (*ECONOMY_TYPES, EventType.REVERSAL)
)


@dataclass(frozen=True, slots=True)
class Position:
    """Where a keyset page starts or ends: a sort key (a timestamp or a value) and an id."""

    key: Any
    id: int


@dataclass(slots=True)
class Page(Generic[T]):
    """One keyset page, in display order, and whether rows exist beyond either end."""

    rows: list[T]
    has_next: bool
    has_previous: bool


@dataclass(frozen=True, slots=True)
class PageRequest:
    """Relay's first/after and last/before, validated: at most one of first and last."""

    first: int | None = None
    after: Position | None = None
    last: int | None = None
    before: Position | None = None

    @property
    def size(self) -> int:
        return self.last if self.last is not None else (self.first or DEFAULT_PAGE_SIZE)


class PageRequestError(ValueError):
    """A page request no keyset page can answer (negative or oversized sizes, first and last)."""


def page_request(
    *,
    first: int | None = None,
    after: Position | None = None,
    last: int | None = None,
    before: Position | None = None,
    max_size: int = MAX_PAGE_SIZE,
) -> PageRequest:
    """Validate a page request so a client cannot ask for an unbounded page."""
    if first is not None and last is not None:
        raise PageRequestError("Pass first or last, not both.")
    for name, value in (("first", first), ("last", last)):
        if value is not None and not 0 <= value <= max_size:
            raise PageRequestError(f"{name} must be between 0 and {max_size}.")
    return PageRequest(first=first, after=after, last=last, before=before)


def _older(key_field: str, position: Position) -> Q:
    # The redundant leading bound lets the index serve the cursor as a range (FIELD-NOTES).
    return Q(**{f"{key_field}__lte": position.key}) & (
        Q(**{f"{key_field}__lt": position.key})
        | Q(**{key_field: position.key, "id__lt": position.id})
    )


def _newer(key_field: str, position: Position) -> Q:
    return Q(**{f"{key_field}__gte": position.key}) & (
        Q(**{f"{key_field}__gt": position.key})
        | Q(**{key_field: position.key, "id__gt": position.id})
    )


def _keyset_query(
    queryset: QuerySet[Any], *, key_field: str, request: PageRequest
) -> QuerySet[Any]:
    """Bound and order ``queryset`` for one page by (key_field, id), one extra row to see beyond."""
    if request.after is not None:
        queryset = queryset.filter(_older(key_field, request.after))
    if request.before is not None:
        queryset = queryset.filter(_newer(key_field, request.before))
    if request.last is not None:
        return queryset.order_by(key_field, "id")[: request.size + 1]
    return queryset.order_by(f"-{key_field}", "-id")[: request.size + 1]


def _keyset_rows(rows: list[Any], *, request: PageRequest) -> tuple[list[Any], bool, bool]:
    """Trim the extra row into has_next / has_previous; a backward page is put newest first."""
    size = request.size
    if request.last is not None:
        has_previous = len(rows) > size
        rows = rows[:size]
        rows.reverse()
        return rows, request.before is not None, has_previous
    return rows[:size], len(rows) > size, request.after is not None


# --- The activity feed -----------------------------------------------------------------------


def activity_feed_page(
    *,
    user_id: int,
    request: PageRequest,
    filters: Mapping[str, Any] | None = None,
    include_economy: bool,
) -> Page[dict[str, Any]]:
    """A page of a user's feed, newest first by (timestamp, id), as plain rows.

    ``include_economy`` False hides coin events and the reversals of coin events: the
    owner and staff see them, others do not.
    """
    query = activity_feed_query(
        user_id=user_id, request=request, filters=filters, include_economy=include_economy
    )
    rows, has_next, has_previous = _keyset_rows(list(query), request=request)
    return Page(rows=rows, has_next=has_next, has_previous=has_previous)


def activity_feed_query(
    *,
    user_id: int,
    request: PageRequest,
    filters: Mapping[str, Any] | None = None,
    include_economy: bool,
) -> QuerySet[Any]:
    """The one SELECT a feed page runs (exposed so a test can EXPLAIN it)."""
    queryset: QuerySet[UserActivity] = UserActivity.objects.filter(user_id=user_id)
    if filters:
        queryset = apply_filter(ActivityFilter, data=filters, queryset=queryset)
    if not include_economy:
        # Fail closed: a correction is shown only when its metadata proves it cancels a
        # non-economy event. A row filter on the scanned rows, not a join.
        queryset = queryset.exclude(event_type__in=ECONOMY_TYPES).exclude(
            Q(event_type=EventType.REVERSAL) & ~Q(**{f"{REVERSED_TYPE}__in": NON_ECONOMY_TYPES})
        )
    return _keyset_query(queryset.values(*FEED_FIELDS), key_field="timestamp", request=request)


def activity_event(*, event_id: int) -> dict[str, Any] | None:
    """One event as a feed row, with the cancelled event's type read from that row itself
    (the caller decides whether the viewer may see it)."""
    return (
        UserActivity.objects.filter(pk=event_id)
        .values(*FEED_FIELDS, "reverses__event_type")
        .first()
    )


def reversed_type(row: Mapping[str, Any]) -> str | None:
    """For a correction, the type of the event it cancels; None for any other event."""
    if row["event_type"] != EventType.REVERSAL:
        return None
    if row.get("reverses__event_type"):
        return str(row["reverses__event_type"])
    reverses = (row.get("metadata") or {}).get("reverses") or {}
    value = reverses.get("event_type") if isinstance(reverses, dict) else None
    return str(value) if value else None


def is_economy_row(row: Mapping[str, Any]) -> bool:
    """Whether a row is a coin event or a correction not proven to cancel a non-coin event."""
    if row["event_type"] in ECONOMY_TYPES:
        return True
    return row["event_type"] == EventType.REVERSAL and reversed_type(row) not in NON_ECONOMY_TYPES


# --- Stats -----------------------------------------------------------------------------------

STATS_COLUMNS: tuple[str, ...] = (*COUNTER_FIELDS, "last_activity_at")


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole > 0 else 0.0


def user_stats(*, user_id: int) -> dict[str, Any]:
    """A user's stats by primary key, with the derived rates; a user without a row reads zeros."""
    row = UserProfileStats.objects.filter(user_id=user_id).values(*STATS_COLUMNS).first()
    values: dict[str, Any] = row or {**dict.fromkeys(COUNTER_FIELDS, 0), "last_activity_at": None}
    return with_derived(values)


def existing_user_stats(*, user_id: int) -> dict[str, Any] | None:
    """``user_stats`` of a user who exists, else None, in one round trip: the user LEFT JOIN
    their stats row, as fixed SQL built once. Measured in bench/: the two ORM queries this
    replaces (subject, then stats) were most of a stats lookup's cost next to the PK SELECT,
    and compiling a query costs more than running it."""
    with connection.cursor() as cursor:
        cursor.execute(_existing_user_stats_sql(), [user_id])
        row = cursor.fetchone()
    if row is None:
        return None
    _, has_row, *columns = row
    if has_row is None:  # no stats row yet
        return with_derived({**dict.fromkeys(COUNTER_FIELDS, 0), "last_activity_at": None})
    values = dict(zip(STATS_COLUMNS, columns, strict=True))
    values["last_activity_at"] = _aware(values["last_activity_at"])
    return with_derived(values)


@functools.cache
def _existing_user_stats_sql() -> str:
    quote = connection.ops.quote_name
    users = get_user_model()._meta
    stats = UserProfileStats._meta
    columns = ", ".join(f"s.{quote(_column(stats, name))}" for name in STATS_COLUMNS)
    user_pk = f"u.{quote(_column(users, users.pk.name))}"
    stats_pk = f"s.{quote(_column(stats, 'user'))}"
    return (
        f"SELECT {user_pk}, {stats_pk}, {columns} "
        f"FROM {quote(users.db_table)} u LEFT JOIN {quote(stats.db_table)} s "
        f"ON {stats_pk} = {user_pk} WHERE {user_pk} = %s"
    )


def _column(meta: Any, name: str) -> str:
    return str(meta.get_field(name).column)


def _aware(value: Any) -> datetime | None:
    """A raw cursor's timestamp: aware on PostgreSQL; naive UTC (or ISO text) on SQLite."""
    if value is None:
        return None
    parsed = value if isinstance(value, datetime) else parse_datetime(str(value))
    if parsed is None:
        raise ValueError(f"not a timestamp: {value!r}")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def with_derived(values: dict[str, Any]) -> dict[str, Any]:
    """Add win_rate, tournament_win_rate and net_earnings: computed, never stored."""
    values["win_rate"] = _ratio(values["matches_won"], values["matches_played"])
    values["tournament_win_rate"] = _ratio(values["tournaments_won"], values["tournaments_played"])
    values["net_earnings"] = values["total_earned"] - values["total_spent"]
    return values


def _standing_events(user_id: int) -> QuerySet[UserActivity]:
    """A user's events that still stand: not reversals, and not cancelled by one (I8)."""
    return UserActivity.objects.filter(user_id=user_id, reversed_by__isnull=True).exclude(
        event_type=EventType.REVERSAL
    )


# --- Tournament history ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TournamentParticipation:
    tournament_id: int
    tournament_name: str
    registered_at: datetime
    registered: bool
    joined: bool
    completed: bool
    placement: int | None
    matches_played: int
    matches_won: int
    matches_lost: int
    coins_earned: int


def _count(event_type: str) -> Count:
    return Count("id", filter=Q(event_type=event_type))


def tournament_history_page(*, user_id: int, request: PageRequest) -> Page[TournamentParticipation]:
    """One row per tournament the user registered for, newest registration first.

    Grouped in SQL by the events' ``metadata.tournament_id`` from events that still stand, so
    the query count does not depend on how many tournaments there are. Pages by
    (registered_at, tournament_id); the bound applies to the grouped rows (HAVING).
    """
    grouped = (
        _standing_events(user_id)
        .filter(metadata__has_key="tournament_id")
        .annotate(
            tournament_id=Cast(KT("metadata__tournament_id"), BigIntegerField()),
            placement_value=Cast(KT("metadata__placement"), IntegerField()),
        )
        .values("tournament_id")
        .annotate(
            name=Max(KT("metadata__tournament_name")),
            registered_at=Min("timestamp", filter=Q(event_type=EventType.TOURNAMENT_REGISTERED)),
            n_registered=_count(EventType.TOURNAMENT_REGISTERED),
            n_joined=_count(EventType.TOURNAMENT_JOINED),
            n_completed=_count(EventType.TOURNAMENT_COMPLETED),
            n_won=_count(EventType.TOURNAMENT_WON),
            n_runner_up=_count(EventType.TOURNAMENT_RUNNER_UP),
            top4_place=Max("placement_value", filter=Q(event_type=EventType.TOURNAMENT_TOP4)),
            n_played=_count(EventType.MATCH_PLAYED),
            n_match_won=_count(EventType.MATCH_WON),
            n_match_lost=_count(EventType.MATCH_LOST),
            coins=Coalesce(
                Sum("amount", filter=Q(event_type=EventType.COINS_EARNED)),
                0,
                output_field=BigIntegerField(),
            ),
        )
        .filter(n_registered__gt=0)
    )
    rows, has_next, has_previous = _keyset_by_alias(
        grouped, key_field="registered_at", id_field="tournament_id", request=request
    )
    return Page(
        rows=[_participation(row) for row in rows], has_next=has_next, has_previous=has_previous
    )


def _keyset_by_alias(
    queryset: QuerySet[Any], *, key_field: str, id_field: str, request: PageRequest
) -> tuple[list[Any], bool, bool]:
    """Keyset paging newest first on an annotated (key, id) pair (for grouped rows)."""
    if request.after is not None:
        at = request.after
        queryset = queryset.filter(
            Q(**{f"{key_field}__lt": at.key}) | Q(**{key_field: at.key, f"{id_field}__lt": at.id})
        )
    if request.before is not None:
        at = request.before
        queryset = queryset.filter(
            Q(**{f"{key_field}__gt": at.key}) | Q(**{key_field: at.key, f"{id_field}__gt": at.id})
        )
    if request.last is not None:
        queryset = queryset.order_by(key_field, id_field)
    else:
        queryset = queryset.order_by(f"-{key_field}", f"-{id_field}")
    return _keyset_rows(list(queryset[: request.size + 1]), request=request)


def _participation(row: Mapping[str, Any]) -> TournamentParticipation:
    placement: int | None = None
    if row["n_won"]:
        placement = 1
    elif row["n_runner_up"]:
        placement = 2
    elif row["top4_place"] is not None:
        placement = int(row["top4_place"])
    return TournamentParticipation(
        tournament_id=row["tournament_id"],
        tournament_name=row["name"] or "",
        registered_at=row["registered_at"],
        registered=row["n_registered"] > 0,
        joined=row["n_joined"] > 0,
        completed=row["n_completed"] > 0,
        placement=placement,
        matches_played=row["n_played"],
        matches_won=row["n_match_won"],
        matches_lost=row["n_match_lost"],
        coins_earned=int(row["coins"]),
    )


# --- Economy ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReasonTotal:
    reason: str
    earned: int
    spent: int


@dataclass(frozen=True, slots=True)
class EconomySummary:
    earned: int
    spent: int
    by_reason: list[ReasonTotal] = field(default_factory=list)

    @property
    def net(self) -> int:
        return self.earned - self.spent


def economy_summary(*, user_id: int) -> EconomySummary:
    """Coins earned and spent, in total and by reason, from the coin events that still stand."""
    grouped = (
        _standing_events(user_id)
        .filter(event_type__in=ECONOMY_TYPES)
        .annotate(
            reason=Coalesce(KT("metadata__reason"), F("event_type"), output_field=CharField())
        )
        .values("reason", "event_type")
        .annotate(total=Sum("amount"))
        .order_by("reason")
    )
    earned_by: dict[str, int] = defaultdict(int)
    spent_by: dict[str, int] = defaultdict(int)
    for row in grouped:
        target = earned_by if row["event_type"] == EventType.COINS_EARNED else spent_by
        target[row["reason"]] += int(row["total"] or 0)
    reasons = sorted(set(earned_by) | set(spent_by))
    return EconomySummary(
        earned=sum(earned_by.values()),
        spent=sum(spent_by.values()),
        by_reason=[ReasonTotal(r, earned_by.get(r, 0), spent_by.get(r, 0)) for r in reasons],
    )


# --- Stats by period -------------------------------------------------------------------------

Period = Literal["month", "week"]


@dataclass(frozen=True, slots=True)
class PeriodStats:
    period_start: datetime
    counters: dict[str, int]


def stats_by_period(
    *, user_id: int, period: Period, start: datetime | None = None, end: datetime | None = None
) -> list[PeriodStats]:
    """The fold of each month's or week's standing events, oldest period first.

    A cancelled event counts in no period (the feed shows its correction): periods read what
    stands now, so a period's counters are never negative.
    """
    trunc = TruncMonth("timestamp") if period == "month" else TruncWeek("timestamp")
    events = _standing_events(user_id)
    if start is not None:
        events = events.filter(timestamp__gte=start)
    if end is not None:
        events = events.filter(timestamp__lt=end)
    grouped = (
        events.annotate(period_start=trunc)
        .values("period_start", "event_type")
        .annotate(n=Count("id"), total=Sum("amount"))
        .order_by("period_start")
    )
    totals: dict[datetime, list[KindTotal]] = defaultdict(list)
    for row in grouped:
        totals[row["period_start"]].append(
            KindTotal(row["event_type"], row["n"], int(row["total"] or 0))
        )
    return [PeriodStats(start_at, fold_totals(kinds)) for start_at, kinds in sorted(totals.items())]


# --- Leaderboards ----------------------------------------------------------------------------

Board = Literal["tournaments_won", "matches_won", "win_rate", "total_earned"]

_BOARD_ORDER: Mapping[str, tuple[str, str]] = {
    # (value field, tie-breaker read in the index's own order): a backward scan of
    # ledger_stats_twon / ledger_stats_mwon / ledger_stats_earned serves these.
    "tournaments_won": ("tournaments_won", "tournaments_played"),
    "matches_won": ("matches_won", "matches_played"),
    "total_earned": ("total_earned", ""),
}


@dataclass(frozen=True, slots=True)
class LeaderboardRow:
    user_id: int
    value: float
    tie: int
    rank: int
    stats: dict[str, Any]


@dataclass(frozen=True, slots=True)
class BoardPosition:
    """A leaderboard cursor: the row's value, its tie-breaker, its user and its rank."""

    value: float
    tie: int
    user_id: int
    rank: int


def leaderboard_page(
    *, board: Board, first: int, after: BoardPosition | None = None
) -> Page[LeaderboardRow]:
    """Users ranked by ``board``, best first, from the stats table (I1 makes it the fold)."""
    rows = list(leaderboard_query(board=board, first=first, after=after))
    rank_start = after.rank if after is not None else 0
    value_field, tie_field = _BOARD_ORDER.get(board, ("", "matches_played"))
    result = [
        LeaderboardRow(
            user_id=row["user_id"],
            value=(
                _ratio(row["matches_won"], row["matches_played"])
                if board == "win_rate"
                else float(row[value_field])
            ),
            tie=row[tie_field] if tie_field else 0,
            rank=rank_start + i + 1,
            stats=with_derived(dict(row)),
        )
        for i, row in enumerate(rows[:first])
    ]
    return Page(rows=result, has_next=len(rows) > first, has_previous=after is not None)


def leaderboard_query(
    *, board: Board, first: int, after: BoardPosition | None = None
) -> QuerySet[Any]:
    """The one SELECT of a leaderboard page (one extra row), exposed so a test can EXPLAIN it.

    Counter boards order by (value desc, tie asc, user desc): PostgreSQL reads the stats index
    backwards (ledger_stats_twon / _mwon / _earned) and only sorts users tied on the indexed
    columns (an incremental sort). Win rate has no expression index in ledger's migrations: it
    ranks only users with at least ``settings.LEADERBOARD_MIN_MATCHES`` matches and sorts that
    subset; its cursor compares fractions exactly by cross-multiplying.
    """
    columns = (*STATS_COLUMNS, "user_id")
    queryset = UserProfileStats.objects.all()
    if board == "win_rate":
        minimum = int(getattr(settings, "LEADERBOARD_MIN_MATCHES", 10))
        queryset = queryset.filter(matches_played__gte=max(minimum, 1)).annotate(
            rate=ExpressionWrapper(
                Cast("matches_won", FloatField()) / F("matches_played"), output_field=FloatField()
            )
        )
        if after is not None:
            # won/played < w/p  <=>  won*p < w*played (played > 0), exactly, in integers.
            won, played = int(after.value), after.tie
            queryset = queryset.alias(
                mine=F("matches_won") * played, theirs=F("matches_played") * won
            ).filter(Q(mine__lt=F("theirs")) | Q(mine=F("theirs"), user_id__lt=after.user_id))
        return queryset.order_by("-rate", "-user_id").values(*columns)[: first + 1]

    value_field, tie_field = _BOARD_ORDER[board]
    if after is not None:
        value = int(after.value)
        bound = Q(**{f"{value_field}__lt": value})
        same_value = Q(**{value_field: value})
        if tie_field:
            bound |= same_value & Q(**{f"{tie_field}__gt": after.tie})
            same_value &= Q(**{tie_field: after.tie})
        bound |= same_value & Q(user_id__lt=after.user_id)
        # The redundant leading bound makes the cursor an index range, as in the feed.
        queryset = queryset.filter(Q(**{f"{value_field}__lte": value}) & bound)
    ordering = [f"-{value_field}", *([tie_field] if tie_field else []), "-user_id"]
    return queryset.order_by(*ordering).values(*columns)[: first + 1]


def leaderboard_position(row: LeaderboardRow, *, board: Board) -> BoardPosition:
    """The cursor position of a row: for win rate, the exact fraction (won, played)."""
    if board == "win_rate":
        return BoardPosition(row.stats["matches_won"], row.tie, row.user_id, row.rank)
    return BoardPosition(row.value, row.tie, row.user_id, row.rank)


# --- Jobs ------------------------------------------------------------------------------------


def ledger_jobs_page(
    *, request: PageRequest, filters: Mapping[str, Any] | None = None
) -> Page[LedgerJob]:
    """Jobs newest first by (created_at, id), optionally by status and kind (staff listings)."""
    queryset = LedgerJob.objects.all()
    if filters:
        queryset = apply_filter(LedgerJobFilter, data=filters, queryset=queryset)
    query = _keyset_query(queryset, key_field="created_at", request=request)
    rows, has_next, has_previous = _keyset_rows(list(query), request=request)
    return Page(rows=rows, has_next=has_next, has_previous=has_previous)


def ledger_job(*, job_id: int) -> LedgerJob | None:
    return LedgerJob.objects.filter(pk=job_id).first()
