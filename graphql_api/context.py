"""The per-request context: the request, and the viewer resolved once by the view."""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from strawberry.django.context import StrawberryDjangoContext
from strawberry.types import Info

from graphql_api.errors import NotFound, Unauthenticated
from graphql_api.nodes.ids import parse_user_id
from graphql_api.permissions import Viewer
from ledger.selectors.stats import column

_P = ParamSpec("_P")
_R = TypeVar("_R")


def db(function: Callable[_P, _R]) -> Callable[_P, Coroutine[Any, Any, _R]]:
    """Run a selector (sync ORM code) from an async resolver, on the request's thread."""
    return _on_thread(function)


@functools.lru_cache(maxsize=256)
def _on_thread(function: Callable[..., Any]) -> Any:
    """``sync_to_async(function)``, built once per selector: building it wraps and inspects
    the function, a few percent of a stats request's CPU when done per call (py-spy)."""
    return sync_to_async(function)


@dataclass
class ApiContext(StrawberryDjangoContext):
    viewer: Viewer = field(default_factory=AnonymousUser)


def viewer_of(info: Info) -> Viewer:
    """The viewer the view or the WebSocket connection resolved (anonymous without one)."""
    viewer: Viewer | None = getattr(info.context, "viewer", None)
    return viewer or AnonymousUser()


@dataclass(frozen=True, slots=True)
class Subject:
    """The user a query is about: their id, and whether their activity is public."""

    user_id: int
    activity_public: bool


def load_subject(user_id: int) -> Subject | None:
    """The user and their profile's visibility in one fixed statement (the ORM compiling the
    same join cost more than running it: measured in bench/, every feed page pays it)."""
    with connection.cursor() as cursor:
        cursor.execute(_subject_sql(), [user_id])
        row = cursor.fetchone()
    if row is None:
        return None
    # A user without a profile row (created outside the platform) is private by default.
    return Subject(user_id=int(row[0]), activity_public=bool(row[1]))


@functools.cache
def _subject_sql() -> str:
    from esports.profiles.models import UserProfile

    quote = connection.ops.quote_name
    users, profiles = get_user_model()._meta, UserProfile._meta
    user_pk = f"u.{quote(column(users, users.pk.name))}"
    owner = f"p.{quote(column(profiles, 'user'))}"
    public = f"p.{quote(column(profiles, 'activity_public'))}"
    return (
        f"SELECT {user_pk}, {public} FROM {quote(users.db_table)} u "
        f"LEFT JOIN {quote(profiles.db_table)} p ON {owner} = {user_pk} WHERE {user_pk} = %s"
    )


def requested_user_id(info: Info, user_id: Any | None) -> int:
    """``userId`` if given (a User's global ID or, deprecated, a numeric id; validated, not yet
    looked up), else the signed-in viewer's id."""
    if user_id is None:
        viewer = viewer_of(info)
        if not viewer.is_authenticated:
            raise Unauthenticated("Sign in, or pass userId to read a public profile.")
        return int(viewer.pk)
    return parse_user_id(user_id, what="userId")


def no_such_user(number: int) -> NotFound:
    return NotFound(f"No user with id {number}.", field="userId")


async def subject_of(info: Info, user_id: Any | None) -> Subject:
    """``userId`` if given (validated, must exist), else the signed-in viewer."""
    number = requested_user_id(info, user_id)
    subject = await db(load_subject)(number)
    if subject is None:
        raise no_such_user(number)
    return subject
