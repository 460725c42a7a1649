"""Live feed: GraphQL subscriptions over WebSocket, fed by the ledger's committed batches."""

from graphql_api.subscriptions.resolvers import Subscription

__all__ = ["Subscription"]
