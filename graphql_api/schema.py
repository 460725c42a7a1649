"""The GraphQL schema: per-domain queries merged into one Query, and the mutations."""

from __future__ import annotations

from typing import Any

import strawberry
from django.conf import settings
from graphql import GraphQLError
from strawberry.types import ExecutionContext

from graphql_api.activity.events import EVENT_TYPES
from graphql_api.activity.queries import ActivityQueries
from graphql_api.errors import is_client_error
from graphql_api.extensions import EXTENSIONS, strip_suggestion
from graphql_api.jobs.mutations import JobMutations
from graphql_api.jobs.queries import JobQueries
from graphql_api.nodes.queries import NodeQueries
from graphql_api.stats.queries import StatsQueries
from graphql_api.subscriptions import Subscription
from graphql_api.tournaments.queries import TournamentQueries
from graphql_api.users.queries import UserQueries


@strawberry.type
class Query(NodeQueries, UserQueries, ActivityQueries, StatsQueries, TournamentQueries, JobQueries):
    pass


@strawberry.type
class Mutation(JobMutations):
    pass


class LedgerSchema(strawberry.Schema):
    """Strips field suggestions unless DEBUG (decided per request); logs server errors only."""

    def _process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        if not settings.DEBUG:
            for error in errors:
                strip_suggestion(error)
        self.process_errors(errors, execution_context)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """A bad cursor or a refused permission is the client's business, not an incident."""
        server_errors = [error for error in errors if not is_client_error(error)]
        super().process_errors(server_errors, execution_context)


def _build(**kwargs: Any) -> LedgerSchema:
    return LedgerSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=list(EVENT_TYPES.values()),  # reached through the ActivityEvent interface
        extensions=EXTENSIONS,
        **kwargs,
    )


schema = _build()
