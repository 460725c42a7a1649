"""CompiledBatch reads a batch by primary key exactly as the ORM would, with SQL compiled once
per batch size; a queryset with parameters of its own is refused, not misread."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from esports.tournaments.models import Match
from graphql_api.nodes.loaders import CompiledBatch
from tests.factories import MatchFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_batch_reads_what_the_orm_reads_related_rows_included():
    matches = [MatchFactory.create() for _ in range(3)]
    batch = CompiledBatch(Match.objects.select_related("tournament"))
    keys = [m.pk for m in matches] + [999_999]  # an unknown key is simply absent
    found = batch(keys)
    expected = Match.objects.select_related("tournament").in_bulk(keys)
    assert found.keys() == expected.keys()
    for pk, match in found.items():
        assert [getattr(match, f.attname) for f in Match._meta.concrete_fields] == [
            getattr(expected[pk], f.attname) for f in Match._meta.concrete_fields
        ]
        with CaptureQueriesContext(connection) as queries:
            assert match.tournament.name == expected[pk].tournament.name  # read with the match
        assert len(queries) == 0
        assert isinstance(match.tournament.starts_at, datetime)  # converted on every backend
        assert match.tournament.starts_at.tzinfo is not None
    assert batch([]) == {}


def test_each_batch_size_is_compiled_once_and_reused():
    users = [UserFactory.create() for _ in range(4)]
    batch = CompiledBatch(get_user_model().objects.select_related("profile"))
    first = batch([u.pk for u in users[:2]])
    again = batch([u.pk for u in users[2:]])  # same size, other keys: the same SQL
    assert set(first) == {u.pk for u in users[:2]}
    assert set(again) == {u.pk for u in users[2:]}
    assert len(batch._compiled) == 1
    assert {u.profile.user_id for u in again.values()} == {u.pk for u in users[2:]}
    batch([u.pk for u in users])
    assert len(batch._compiled) == 2


def test_a_queryset_with_parameters_of_its_own_is_refused():
    batch = CompiledBatch(Match.objects.filter(round=2))
    with pytest.raises(ValueError, match="parameters of its own"):
        batch([1])


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_foreign_key_not_read_with_its_row_still_loads():
    """ColumnField resolves a foreign key read with its row as the attribute; one that was not
    read still loads, on Django's thread (strawberry-django's own resolution)."""
    from asgiref.sync import sync_to_async
    from strawberry.types import get_object_definition

    from graphql_api.tournaments.nodes import MatchNode

    match = await sync_to_async(MatchFactory.create)()
    definition = get_object_definition(MatchNode, strict=True)
    field = next(f for f in definition.fields if f.name == "tournament")
    assert field.is_basic_field
    bare = await sync_to_async(Match.objects.get)(pk=match.pk)  # tournament not read with it
    loaded = field.get_result(bare, None, [], {})
    tournament = await loaded if hasattr(loaded, "__await__") else loaded
    assert tournament.pk == match.tournament_id
    joined = await sync_to_async(Match.objects.select_related("tournament").get)(pk=match.pk)
    assert field.get_result(joined, None, [], {}) is joined.tournament
