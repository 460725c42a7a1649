"""When the API's reads may go to the replica: a query over HTTP, by a viewer who has not made a
mutation in the last ``READ_YOUR_WRITES_SECONDS``.

Which reads may then lag is the selectors' choice (``ledger.routing.replica_read``): feed,
stats, history, leaderboards and periods. Mutations, WebSocket operations (subscriptions and
their catch-up reads) and everything outside the API read the primary.

Read your writes: a mutation's response carries a marker, signed and stamped with the time and
the viewer, both as a cookie (browsers send it back by themselves) and as a response header that
other clients may send back as a request header. For ``READ_YOUR_WRITES_SECONDS`` after it, that
viewer's queries read the primary; the signature's own timestamp bounds it, so a client cannot
stretch it. Without a replica nothing is marked. docs/decisions/0019.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from graphql_api.permissions import Viewer
from ledger.routing import replica_configured, replica_reads_allowed

MARKER_COOKIE = "dc_read_your_writes"
MARKER_HEADER = "X-Read-Your-Writes"
_SIGNER_SALT = "graphql_api.routing.read-your-writes"


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=_SIGNER_SALT)


def _who(viewer: Viewer) -> str:
    return str(viewer.pk)


def write_marker(viewer: Viewer) -> str:
    """The marker of ``viewer``'s write, now."""
    return _signer().sign(_who(viewer))


def wrote_recently(request: HttpRequest, viewer: Viewer) -> bool:
    """The request carries a marker of this viewer's write of less than the window ago (a
    missing, expired, tampered or someone else's marker reads as none: it only ever costs a
    read from the primary)."""
    if not viewer.is_authenticated:
        return False
    value = request.headers.get(MARKER_HEADER) or request.COOKIES.get(MARKER_COOKIE)
    if not value:
        return False
    try:
        who = _signer().unsign(value, max_age=settings.READ_YOUR_WRITES_SECONDS)
    except signing.BadSignature:  # SignatureExpired included
        return False
    return who == _who(viewer)


def mark_write(response: HttpResponse, viewer: Viewer) -> None:
    marker = write_marker(viewer)
    response[MARKER_HEADER] = marker
    response.set_cookie(
        MARKER_COOKIE,
        marker,
        max_age=settings.READ_YOUR_WRITES_SECONDS,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


class ReadRouting(SchemaExtension):
    """Opens the replica scope for a query over HTTP unless its viewer just wrote; marks the
    response of a mutation. The one place the API decides where its reads go."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        request = getattr(context.context, "request", None)
        if not isinstance(request, HttpRequest) or not replica_configured():
            yield
            return
        viewer: Viewer = context.context.viewer
        if context.operation_type is OperationType.MUTATION:
            yield
            if viewer.is_authenticated:
                mark_write(context.context.response, viewer)
            return
        replica = context.operation_type is OperationType.QUERY and not wrote_recently(
            request, viewer
        )
        with replica_reads_allowed(replica):
            yield
