"""Opaque keyset cursors and Relay page info shared by every connection.

A cursor is base64 of ``<kind>:<sort key>:<id>``: opaque to clients, a position (not an offset)
to us. A cursor of the wrong kind or a malformed one is a BadInput client error.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

import strawberry
from strawberry.relay import PageInfo

from graphql_api.errors import BadInput
from ledger.selectors import (
    MAX_PAGE_SIZE,
    Page,
    PageRequest,
    PageRequestError,
    Position,
    page_request,
)

__all__ = ["PageInfo", "decode_cursor", "encode_cursor", "page_info", "to_page_request"]


def encode_cursor(kind: str, *parts: Any) -> str:
    text = ":".join([kind, *(_part(p) for p in parts)])
    return base64.urlsafe_b64encode(text.encode()).decode()


def _part(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def decode_cursor(cursor: str, *, kind: str, arity: int = 2) -> list[str]:
    """The cursor's parts as text, or BadInput if it is not a cursor of this connection."""
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeError, ValueError):
        raise BadInput(f"Malformed cursor {cursor!r}.", field="cursor") from None
    found_kind, _, rest = text.partition(":")
    parts = rest.split(":") if rest else []
    if found_kind != kind or len(parts) < arity:
        raise BadInput(f"Malformed cursor {cursor!r} for this connection.", field="cursor")
    # A timestamp's own colons are put back together (only the last part is an id).
    if arity == 2:
        return [":".join(parts[:-1]), parts[-1]]
    return parts


MAX_ID = 2**63 - 1
"""The largest id a BIGINT column holds: anything larger is malformed, not a database error."""


def decode_time_position(cursor: str, *, kind: str) -> Position:
    key, pk = decode_cursor(cursor, kind=kind)
    try:
        at = datetime.fromisoformat(key)
        number = int(pk)
    except ValueError:
        raise BadInput(f"Malformed cursor {cursor!r}.", field="cursor") from None
    if at.tzinfo is None or not 0 < number <= MAX_ID:
        raise BadInput(f"Malformed cursor {cursor!r}.", field="cursor")
    return Position(key=at, id=number)


def to_page_request(
    *,
    kind: str,
    first: int | None,
    after: str | None,
    last: int | None = None,
    before: str | None = None,
    max_size: int = MAX_PAGE_SIZE,
) -> PageRequest:
    """Relay arguments into a validated keyset page request (page size capped)."""
    try:
        return page_request(
            first=first,
            after=decode_time_position(after, kind=kind) if after else None,
            last=last,
            before=decode_time_position(before, kind=kind) if before else None,
            max_size=max_size,
        )
    except PageRequestError as error:
        raise BadInput(str(error)) from None


def page_info(page: Page[Any], cursors: list[str]) -> PageInfo:
    return PageInfo(
        has_next_page=page.has_next,
        has_previous_page=page.has_previous,
        start_cursor=cursors[0] if cursors else None,
        end_cursor=cursors[-1] if cursors else None,
    )


def parse_id(value: strawberry.ID | str, *, what: str = "id") -> int:
    """A database id from a GraphQL ID, or BadInput naming the argument."""
    try:
        number = int(str(value))
    except ValueError:
        raise BadInput(f"{what} must be a numeric id, got {str(value)!r}.", field=what) from None
    if not 0 < number <= MAX_ID:
        raise BadInput(f"{what} must be a positive id no larger than {MAX_ID}.", field=what)
    return number
