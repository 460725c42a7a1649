"""ASGI entry point: HTTP through Django (its middleware, CSRF included, stays in place);
WebSockets at /graphql/ through strawberry's Channels consumer (GraphQL subscriptions)."""

import os

from channels.routing import ProtocolTypeRouter
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_asgi_application()  # sets Django up before the API is imported

from graphql_api.routing import websocket_application  # noqa: E402

application = ProtocolTypeRouter({"http": django_application, "websocket": websocket_application()})
