"""The ledger's filter rules (django-filter): one place that validates what a client may filter by.

The GraphQL inputs map onto these FilterSets, so an API, an admin view or a command all apply
the same, validated rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import django_filters
from django.db.models import QuerySet

from ledger.exceptions import LedgerError
from ledger.models import EventType, LedgerJob, UserActivity


class InvalidFilterError(LedgerError):
    """A filter value that the FilterSet refused; the message names the fields and reasons."""


class ActivityFilter(django_filters.FilterSet):
    """A feed narrowed to some event types and a half-open time range [since, until)."""

    # distinct=False: django-filter's default DISTINCT guards against joins duplicating rows;
    # a column of the row cannot, and DISTINCT made every typed page sort all of the user's
    # matching events before its LIMIT.
    event_types = django_filters.MultipleChoiceFilter(
        field_name="event_type", choices=EventType.choices, distinct=False
    )
    since = django_filters.IsoDateTimeFilter(field_name="timestamp", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="timestamp", lookup_expr="lt")

    class Meta:
        model = UserActivity
        fields: list[str] = []


class LedgerJobFilter(django_filters.FilterSet):
    """Staff listings of jobs, by status and kind."""

    status = django_filters.ChoiceFilter(choices=LedgerJob.Status.choices)
    kind = django_filters.ChoiceFilter(choices=LedgerJob.Kind.choices)

    class Meta:
        model = LedgerJob
        fields: list[str] = []


def apply_filter(
    filterset_class: type[django_filters.FilterSet],
    *,
    data: Mapping[str, Any],
    queryset: QuerySet[Any],
) -> QuerySet[Any]:
    """Filter ``queryset`` by ``data`` or raise InvalidFilterError naming what was wrong."""
    return valid_filterset(filterset_class, data=data, queryset=queryset).qs


def valid_filterset(
    filterset_class: type[django_filters.FilterSet],
    *,
    data: Mapping[str, Any],
    queryset: QuerySet[Any],
) -> django_filters.FilterSet:
    """The filterset of ``data`` over ``queryset``, validated (its ``qs`` the filtered rows, its
    form's ``cleaned_data`` the values parsed), or InvalidFilterError naming what was wrong."""
    filterset = filterset_class(data=dict(data), queryset=queryset)
    if not filterset.is_valid():
        reasons = "; ".join(
            f"{field}: {' '.join(str(m) for m in messages)}"
            for field, messages in filterset.errors.items()
        )
        raise InvalidFilterError(f"Invalid filter: {reasons}")
    return filterset
