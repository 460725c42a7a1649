"""Issue a bearer token for a user (printed once, on the last line), or revoke their tokens."""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from graphql_api.auth.tokens import issue_api_token, revoke_api_tokens, user_by_username


class Command(BaseCommand):
    help = (
        "Issue an API token for USERNAME and print it once, on the last line "
        "(only its SHA-256 digest is stored). --revoke [PREFIX], last, revokes instead."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="What the token is for (e.g. 'iOS app').")
        # REMAINDER: what follows --revoke is the prefix even when it starts with "-", as one
        # token in 64 does (token_urlsafe's alphabet); nargs="?" would read it as an option.
        parser.add_argument(
            "--revoke",
            nargs=argparse.REMAINDER,
            default=None,
            metavar="PREFIX",
            help="Last: revoke the user's tokens (only the one starting with PREFIX, if given).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = user_by_username(username=options["username"])
        if user is None:
            raise CommandError(f"No user named {options['username']!r}.")
        if options["revoke"] is not None:
            if len(options["revoke"]) > 1:
                raise CommandError("--revoke takes one PREFIX and comes last.")
            prefix = options["revoke"][0] if options["revoke"] else None
            count = revoke_api_tokens(user=user, prefix=prefix)
            self.stdout.write(f"Revoked {count} token(s) of {user.get_username()}.")
            return
        token, plain = issue_api_token(user=user, name=options["name"])
        self.stderr.write(
            f"Token {token.prefix}… issued for {user.get_username()}. It is shown once; "
            "send it as 'Authorization: Bearer <token>'."
        )
        self.stdout.write(plain)
