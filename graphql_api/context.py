"""The per-request context: the request, and the viewer resolved once by the view."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from strawberry.django.context import StrawberryDjangoContext
from strawberry.types import Info

from graphql_api.errors import NotFound, Unauthenticated
from graphql_api.pagination import parse_id

db = sync_to_async
"""Run a selector (sync ORM code) from an async resolver, on Django's thread."""


@dataclass
class ApiContext(StrawberryDjangoContext):
    viewer: Any = field(default_factory=AnonymousUser)


def viewer_of(info: Info) -> Any:
    context = info.context
    return getattr(context, "viewer", None) or AnonymousUser()


@dataclass(frozen=True, slots=True)
class Subject:
    """The user a query is about: their id, and whether their activity is public."""

    user_id: int
    activity_public: bool


def load_subject(user_id: int) -> Subject | None:
    row = (
        get_user_model()
        .objects.filter(pk=user_id)
        .values_list("pk", "profile__activity_public")
        .first()
    )
    if row is None:
        return None
    # A user without a profile row (created outside the platform) is private by default.
    return Subject(user_id=row[0], activity_public=bool(row[1]))


async def subject_of(info: Info, user_id: Any | None) -> Subject:
    """``userId`` if given (validated, must exist), else the signed-in viewer."""
    if user_id is None:
        viewer = viewer_of(info)
        if not viewer.is_authenticated:
            raise Unauthenticated("Sign in, or pass userId to read a public profile.")
        number = int(viewer.pk)
    else:
        number = parse_id(user_id, what="userId")
    subject = await db(load_subject)(number)
    if subject is None:
        raise NotFound(f"No user with id {number}.", field="userId")
    return subject
