"""Errors a client caused and may read: each carries a stable ``extensions.code``.

Everything else is a server error and is masked in production (see ``extensions.py``).
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError

BAD_USER_INPUT = "BAD_USER_INPUT"
NOT_FOUND = "NOT_FOUND"
FORBIDDEN = "FORBIDDEN"
UNAUTHENTICATED = "UNAUTHENTICATED"


class ClientError(GraphQLError):
    """An error the client can fix; its message and code reach the client unmasked."""

    code = BAD_USER_INPUT

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message, extensions={"code": self.code, **extensions})


class BadInput(ClientError):
    code = BAD_USER_INPUT


class NotFound(ClientError):
    code = NOT_FOUND


class Forbidden(ClientError):
    code = FORBIDDEN


class Unauthenticated(ClientError):
    code = UNAUTHENTICATED


def is_client_error(error: GraphQLError) -> bool:
    """Parse and validation errors have no original error; input coercion raises GraphQLErrors;
    ours are ClientErrors. Anything else (a bug, a database error) is a server error."""
    original = error.original_error
    return original is None or isinstance(original, GraphQLError)
