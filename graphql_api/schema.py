"""The GraphQL schema: per-domain queries merged into one Query, and the mutations."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

import strawberry
from graphql import GraphQLError, OperationDefinitionNode, parse
from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.name_converter import NameConverter
from strawberry.schema.schema import DEFAULT_ALLOWED_OPERATION_TYPES
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from graphql_api.achievements.queries import AchievementQueries
from graphql_api.activity.events import EVENT_TYPES
from graphql_api.activity.queries import ActivityQueries
from graphql_api.errors import is_client_error
from graphql_api.execution import LedgerExecutionContext
from graphql_api.extensions import EXTENSIONS, MAX_TOKENS
from graphql_api.hooks import ClassHooksRunner
from graphql_api.jobs.mutations import JobMutations
from graphql_api.jobs.queries import JobQueries
from graphql_api.nodes.queries import NodeQueries
from graphql_api.social.mutations import SocialMutations
from graphql_api.social.queries import SocialQueries
from graphql_api.social.subscriptions import FollowingSubscriptions
from graphql_api.stats.queries import StatsQueries
from graphql_api.subscriptions import Subscription
from graphql_api.tournaments.queries import TournamentQueries
from graphql_api.users.queries import UserQueries


@strawberry.type
class Query(
    NodeQueries,
    UserQueries,
    ActivityQueries,
    StatsQueries,
    TournamentQueries,
    AchievementQueries,
    JobQueries,
    SocialQueries,
):
    pass


@strawberry.type
class Mutation(JobMutations, SocialMutations):
    pass


@strawberry.type(name="Subscription")
class Subscriptions(Subscription, FollowingSubscriptions):
    pass


MULTIPLE_OPERATIONS = "Must provide operation name if query contains multiple operations."


@functools.lru_cache(maxsize=256)
def _operations_in(query: str) -> int:
    """How many operations the text defines; 0 if it does not parse within the token limit
    (strawberry's own parse then says why, and a long document is not read in full twice)."""
    try:
        document = parse(query, no_location=True, max_tokens=MAX_TOKENS)
    except GraphQLError:
        return 0
    return sum(isinstance(node, OperationDefinitionNode) for node in document.definitions)


class LedgerSchema(strawberry.Schema):
    """Logs server errors only; field suggestions are hidden by an extension (``extensions``)."""

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        """A subscription runs through ``subscribe`` (the WebSocket): strawberry's HTTP view
        would execute one as a query, and its resolver's stream then fails as an internal
        error. Refused here, the view answers 400 "subscriptions are not allowed".

        A document of several operations needs ``operationName`` (the spec's GetOperation):
        strawberry names the first one when none is given, so graphql-core, which would
        refuse, never sees the name missing. Refused here as graphql-core words it."""
        if operation_name is None and query and _operations_in(query) > 1:
            return ExecutionResult(data=None, errors=[GraphQLError(MULTIPLE_OPERATIONS)])
        allowed = set(allowed_operation_types or DEFAULT_ALLOWED_OPERATION_TYPES)
        return await super().execute(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            allowed - {OperationType.SUBSCRIPTION},
            operation_extensions,
        )

    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        return ClassHooksRunner(execution_context=execution_context, extensions=extensions)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """A bad cursor or a refused permission is the client's business, not an incident."""
        server_errors = [error for error in errors if not is_client_error(error)]
        super().process_errors(server_errors, execution_context)


class RememberedNames(NameConverter):
    """Strawberry's names, each converted once: it converts an argument's Python name to
    camelCase again on every call of its resolver (py-spy: 2% of a stats request)."""

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - one converter per process, names bounded
    def apply_naming_config(self, name: str) -> str:
        return super().apply_naming_config(name)


schema = LedgerSchema(
    query=Query,
    mutation=Mutation,
    subscription=Subscriptions,
    types=list(EVENT_TYPES.values()),  # reached through the ActivityEvent interface
    extensions=EXTENSIONS,
    config=StrawberryConfig(name_converter=RememberedNames()),
    execution_context_class=LedgerExecutionContext,
)
