"""Global IDs: what ``Node.id`` is, and what every ID argument accepts (decision 0009).

A global ID is strawberry's ``GlobalID``: standard base64 of ``"<TypeName>:<database id>"``, the
concrete GraphQL type's name (``User:7``, ``Match:12``, ``MatchWonEvent:345``). It is opaque to
clients; to us it names the table (and, for events, the event type) and the row. ID arguments
that took a numeric id before global IDs existed (``userId``, ``activityEvent(id:)``) take both.
"""

from __future__ import annotations

import base64

from strawberry.relay import GlobalID, GlobalIDValueError

from graphql_api.errors import BadInput
from graphql_api.pagination import MAX_ID, parse_id


def global_id(type_name: str, pk: int) -> str:
    """``GlobalID(type_name, pk)`` as text (strawberry's own encoding, without the object)."""
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def decode_global_id(value: str, *, what: str = "id") -> tuple[str, int]:
    """``(type name, database id)`` of a global ID, or BadInput naming the argument."""
    try:
        decoded = GlobalID.from_id(value)
    except (GlobalIDValueError, UnicodeError, ValueError):
        raise BadInput(f"{what} is not a valid ID: {value!r}.", field=what) from None
    node_id = decoded.node_id
    if not node_id.isascii() or not node_id.isdigit() or not 0 < int(node_id) <= MAX_ID:
        raise BadInput(f"{what} is not a valid ID: {value!r}.", field=what)
    return decoded.type_name, int(node_id)


def is_legacy_id(value: str) -> bool:
    """A bare database id ("7"), as ID arguments took before global IDs (deprecated)."""
    return value.isascii() and value.isdigit()


def parse_typed_id(value: str, *, accept: frozenset[str], what: str) -> tuple[str | None, int]:
    """A legacy numeric id (type None) or a global ID of one of ``accept``; else BadInput."""
    text = str(value)
    if is_legacy_id(text):
        return None, parse_id(text, what=what)
    type_name, pk = decode_global_id(text, what=what)
    if type_name not in accept:
        raise BadInput(f"{what} must be the id of a {' or '.join(sorted(accept))}.", field=what)
    return type_name, pk


USER_TYPE = "User"


def parse_user_id(value: str, *, what: str = "userId") -> int:
    """A user's database id from a User global ID or (deprecated) a numeric id."""
    return parse_typed_id(value, accept=frozenset({USER_TYPE}), what=what)[1]
