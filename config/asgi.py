"""ASGI entry point.

HTTP: admission control (``config.admission``), then ``/graphql/`` through the API's fast path
(``config.fast_path``) or its handler, and every other path through Django's
(``config.handlers``); CSRF stays in place on both (the
API's view runs the check for session requests). WebSockets at /graphql/ go through
strawberry's Channels consumer (GraphQL subscriptions).
"""

import gc
import os

import django
from channels.routing import ProtocolTypeRouter

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup(set_prefix=False)  # as get_asgi_application does, before the API is imported

from django.conf import settings  # noqa: E402

from config.admission import Admission, ASGIApp  # noqa: E402
from config.fast_path import BearerFastPath  # noqa: E402
from config.handlers import ApiHandler, PagesHandler, http_router  # noqa: E402
from graphql_api.routing import websocket_application  # noqa: E402
from graphql_api.schema import schema  # noqa: E402


def api_application(*, fast_path: bool) -> ASGIApp:
    """The API's handler, behind the bearer fast path when ``fast_path`` (decision 0032)."""
    handler = ApiHandler()
    return BearerFastPath(handler, schema) if fast_path else handler


http_application = Admission(
    http_router(api=api_application(fast_path=settings.API_FAST_PATH), pages=PagesHandler()),
    concurrency=settings.HTTP_CONCURRENCY,
    queue=settings.HTTP_QUEUE,
    queue_seconds=settings.HTTP_QUEUE_SECONDS,
)
application = ProtocolTypeRouter({"http": http_application, "websocket": websocket_application()})
# What start-up built (Django, the schema, the URLconf) lives as long as the process: out of
# the collector's reach, a full collection no longer walks it (measured in-process: 25 µs of
# CPU per stats request, paid as a pause of about 0.4 s every few thousand requests).
gc.freeze()
