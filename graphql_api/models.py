"""The API's own table: hashed bearer tokens for mobile clients (docs/decisions/0002)."""

from graphql_api.auth.models import ApiToken

__all__ = ["ApiToken"]
