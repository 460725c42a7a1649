"""I4: events are never updated or deleted; on PostgreSQL not even by raw SQL.

The one exception is the audited erasure path: inside a transaction that did
``SET LOCAL ledger.erasure = 'on'`` the trigger lets an event be re-pointed from its user to an
erased subject, and its metadata be rewritten; nothing else.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.utils import DatabaseError

from ledger.exceptions import ImmutableEventError
from ledger.models import ErasedSubject, UserActivity
from ledger.models.activity import unguarded_event_writes
from ledger.models.erasure import user_digest
from tests.factories import UserFactory, transaction_for

pytestmark = pytest.mark.django_db

TABLE = "ledger_useractivity"


@pytest.fixture
def event() -> UserActivity:
    user = UserFactory.create()
    transaction_for(user, 40)
    return UserActivity.objects.get(user=user)


def _snapshot() -> list[dict[str, Any]]:
    return [dict(row) for row in UserActivity.objects.order_by("id").values()]


def _raw(sql: str, params: list[Any] | None = None, *, erasure: bool = False) -> None:
    with connection.cursor() as cursor:
        if erasure:
            cursor.execute("SET LOCAL ledger.erasure = 'on'")
        cursor.execute(sql, params or [])


REFUSED_SQL = {
    "update amount": f"UPDATE {TABLE} SET amount = 9999",
    "update event_type": f"UPDATE {TABLE} SET event_type = 'match_won'",
    "update timestamp": f'UPDATE {TABLE} SET "timestamp" = now()',
    "update metadata": f"UPDATE {TABLE} SET metadata = '{{}}'",
    "update user": f"UPDATE {TABLE} SET user_id = NULL",
    "delete": f"DELETE FROM {TABLE}",
}


@pytest.mark.postgres
@pytest.mark.parametrize("sql", REFUSED_SQL.values(), ids=REFUSED_SQL.keys())
def test_raw_sql_update_and_delete_are_refused_by_the_trigger(
    event: UserActivity, sql: str
) -> None:
    before = _snapshot()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        _raw(sql)
    assert _snapshot() == before


ALSO_REFUSED_DURING_ERASURE = {
    "delete": f"DELETE FROM {TABLE}",
    "update amount": f"UPDATE {TABLE} SET amount = 9999",
    "update event_type": f"UPDATE {TABLE} SET event_type = 'match_won'",
    "update source": f"UPDATE {TABLE} SET source_id = source_id + 1",
    "update occurrence": f"UPDATE {TABLE} SET occurrence = 7",
    "user to nobody": f"UPDATE {TABLE} SET user_id = NULL",  # without an erased subject
}


@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql", ALSO_REFUSED_DURING_ERASURE.values(), ids=ALSO_REFUSED_DURING_ERASURE.keys()
)
def test_erasure_setting_allows_nothing_but_re_pointing_and_scrubbing(
    event: UserActivity, sql: str
) -> None:
    before = _snapshot()
    with pytest.raises(DatabaseError), transaction.atomic():
        _raw(sql, erasure=True)
    assert _snapshot() == before


@pytest.mark.postgres
def test_erasure_setting_cannot_move_an_event_to_another_user(event: UserActivity) -> None:
    other = UserFactory.create()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        _raw(f"UPDATE {TABLE} SET user_id = %s", [other.pk], erasure=True)
    assert UserActivity.objects.get(pk=event.pk).user_id == event.user_id


@pytest.mark.postgres
def test_erasure_setting_allows_re_pointing_to_an_erased_subject_and_scrubbing(
    event: UserActivity,
) -> None:
    assert event.user_id is not None
    subject = ErasedSubject.objects.create(user_digest=user_digest(event.user_id))
    with transaction.atomic():
        _raw(
            f"UPDATE {TABLE} SET user_id = NULL, erased_subject_id = %s, metadata = %s "
            "WHERE id = %s",
            [subject.pk, '{"scrubbed": true}', event.pk],
            erasure=True,
        )
    erased = UserActivity.objects.get(pk=event.pk)
    assert (erased.user_id, erased.erased_subject_id) == (None, subject.pk)
    assert erased.metadata == {"scrubbed": True}
    assert (erased.event_type, erased.amount, erased.timestamp) == (
        event.event_type,
        event.amount,
        event.timestamp,
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_erasure_setting_ends_with_its_transaction(event: UserActivity) -> None:
    with transaction.atomic():
        _raw(f"UPDATE {TABLE} SET metadata = metadata WHERE id = %s", [event.pk], erasure=True)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        _raw(f"UPDATE {TABLE} SET metadata = metadata WHERE id = %s", [event.pk])


def test_model_and_queryset_guards_refuse_on_every_backend(event: UserActivity) -> None:
    before = _snapshot()
    for refused in (
        lambda: UserActivity.objects.filter(pk=event.pk).update(metadata={}),
        lambda: UserActivity.objects.filter(pk=event.pk).delete(),
        event.delete,
        event.save,
    ):
        with pytest.raises(ImmutableEventError):
            refused()
    assert _snapshot() == before


def test_the_guard_opens_only_inside_the_audited_context(event: UserActivity) -> None:
    with transaction.atomic(), unguarded_event_writes():
        if connection.vendor == "postgresql":  # the audited path also opens the trigger
            _raw("SELECT 1", erasure=True)
        UserActivity.objects.filter(pk=event.pk).update(metadata={"scrubbed": True})
    assert UserActivity.objects.get(pk=event.pk).metadata == {"scrubbed": True}
    with pytest.raises(ImmutableEventError):
        UserActivity.objects.filter(pk=event.pk).update(metadata={})
    with unguarded_event_writes(), pytest.raises(ImmutableEventError):
        UserActivity.objects.filter(pk=event.pk).delete()  # never, not even audited


def test_deleting_a_user_with_events_is_refused(event: UserActivity) -> None:
    """History is not deleted with its user (PROTECT): erasure goes through anonymization."""
    from django.db.models import ProtectedError

    assert event.user is not None
    with pytest.raises(ProtectedError), transaction.atomic():
        event.user.delete()
    assert UserActivity.objects.filter(pk=event.pk).exists()
