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

        # Open WebSockets re-check their credentials when the user's change (subscriptions/
        # credentials.py); token revocation announces itself in graphql_api.auth.tokens.
        from django.contrib.auth import get_user_model, user_logged_out
        from django.db.models.signals import post_delete, post_save

        from graphql_api.subscriptions.credentials import on_user_changed, on_user_logged_out

        user_model = get_user_model()
        post_save.connect(on_user_changed, sender=user_model, dispatch_uid="graphql_api.creds")
        post_delete.connect(on_user_changed, sender=user_model, dispatch_uid="graphql_api.creds")
        user_logged_out.connect(on_user_logged_out, dispatch_uid="graphql_api.creds")
