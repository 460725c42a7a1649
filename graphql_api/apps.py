from django.apps import AppConfig


class GraphqlApiConfig(AppConfig):
    name = "graphql_api"
    verbose_name = "GraphQL API"

    def ready(self) -> None:
        # Live feed: announce each committed batch to its users' subscribers (the ledger sends
        # activity_recorded on commit and knows nothing of channels).
        from graphql_api.subscriptions.publisher import publish_recorded_activity
        from ledger.signals import activity_recorded

        activity_recorded.connect(publish_recorded_activity, dispatch_uid="graphql_api.live_feed")
