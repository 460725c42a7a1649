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
    """Validation and parse errors have no original error; ours are ClientError instances."""
    original = error.original_error
    return original is None or isinstance(original, ClientError)
