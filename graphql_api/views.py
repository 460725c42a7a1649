"""HTTP: the GraphQL endpoint (Django's async view) and the export download.

Authentication: an ``Authorization: Bearer <token>`` header, else the Django session. CSRF is
enforced for session-authenticated POSTs (a browser carries the cookie, so a forged request
could too); bearer requests carry no cookie and cannot be forged that way, so they skip it,
as do anonymous requests, which act with no one's authority.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path
from typing import Any

from cross_web import HTTPException
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.serializers.json import DjangoJSONEncoder
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.middleware.csrf import CsrfViewMiddleware, get_token
from django.views.decorators.csrf import csrf_exempt
from strawberry.django.views import AsyncGraphQLView, TemporalHttpResponse
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData, process_result
from strawberry.types import ExecutionResult

from graphql_api.auth.request import InvalidToken, aviewer_from_token, viewer_from_token
from graphql_api.context import ApiContext
from graphql_api.graphiql import CDN, offline_html
from graphql_api.permissions import is_owner_or_staff
from ledger.models import LedgerJob

_RESPONSE_ENCODER = DjangoJSONEncoder(separators=(",", ":"))


def _unauthorized(message: str) -> HttpResponse:
    response = HttpResponse(message, status=401, content_type="text/plain")
    response["WWW-Authenticate"] = 'Bearer realm="deltacrown"'
    return response


def _csrf_failure(request: HttpRequest) -> HttpResponseBase | None:
    """Django's own CSRF check, run for session-authenticated requests only."""
    middleware = CsrfViewMiddleware(_no_response)
    return middleware.process_view(request, _no_response, (), {})


def _no_response(request: HttpRequest) -> HttpResponseBase:
    return HttpResponse()


GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
"""The GraphQL-over-HTTP media type: request errors get 4xx and no ``data`` entry."""


def accepts_graphql_response(accept: str) -> bool:
    """The Accept header names ``application/graphql-response+json`` (and not with q=0)."""
    for media_range in accept.split(","):
        media_type, *params = (part.strip() for part in media_range.split(";"))
        if media_type.lower() == GRAPHQL_RESPONSE_JSON:
            return not any(
                p.replace(" ", "") in ("q=0", "q=0.0", "q=0.00", "q=0.000") for p in params
            )
    return False


def is_request_error(result: ExecutionResult) -> bool:
    """No execution took place: parse, validation, variable or operation errors (none of
    which has a path; a field error always has one)."""
    return (
        result.data is None
        and bool(result.errors)
        and all(error.path is None for error in result.errors or ())
    )


def graphql_payload(result: ExecutionResult, *, graphql_response: bool) -> GraphQLHTTPResponse:
    """Strawberry's response body; under the GraphQL-over-HTTP media type a request error has
    no ``data`` entry, as the spec asks."""
    payload = process_result(result)
    if graphql_response and is_request_error(result):
        payload.pop("data", None)
    return payload


def graphql_http_response(
    payload: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
    sub_response: HttpResponse,
    *,
    graphql_response: bool,
    request_error: bool,
) -> HttpResponse:
    """Strawberry's Django response (the JSON, then the status, headers and cookies resolvers
    set on the sub-response), with a Content-Length (what CommonMiddleware adds on other paths;
    without it uvicorn chunks the body) and, for a client that accepts it, the GraphQL-over-HTTP
    media type, with 400 for a request error. Written here, not inherited, because the fast path
    (``config.fast_path``) builds the same response without a view."""
    response = HttpResponse(_RESPONSE_ENCODER.encode(payload), content_type="application/json")
    for name, value in sub_response.items():
        response[name] = value
    if sub_response.status_code:
        response.status_code = sub_response.status_code
    for name, cookie in sub_response.cookies.items():
        response.cookies[name] = cookie
    response["Content-Length"] = str(len(response.content))
    if graphql_response:
        response["Content-Type"] = f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8"
        if request_error and response.status_code == 200:
            response.status_code = 400
    return response


class SubResponse(TemporalHttpResponse):
    """Strawberry's sub-response (what resolvers set a status, headers or cookies on), without
    the empty JSON document ``JsonResponse`` encodes for it on every request (1.6% of a stats
    request, py-spy): only its status, headers and cookies are ever read."""

    def __init__(self) -> None:
        HttpResponse.__init__(self, content_type="application/json")


class LedgerGraphQLView(AsyncGraphQLView[ApiContext, None]):
    """Resolves the viewer once per request; GraphiQL only when DEBUG; speaks both response
    media types of GraphQL over HTTP (``application/json`` unless the client accepts
    ``application/graphql-response+json``)."""

    _graphql_response = False
    _request_error = False

    async def dispatch(  # type: ignore[override]
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> Any:
        self.graphql_ide = "graphiql" if settings.DEBUG else None
        self._graphql_response = accepts_graphql_response(request.headers.get("Accept", ""))
        try:
            viewer = await aviewer_from_token(request)
        except InvalidToken as error:
            return _unauthorized(str(error))
        if viewer is None:
            viewer = await request.auser()
            if viewer.is_authenticated and request.method == "POST":
                failure = _csrf_failure(request)  # cookies and headers only: no I/O
                if failure is not None:
                    return failure
        request.user = viewer
        self._viewer = viewer
        return await super().dispatch(request, *args, **kwargs)

    async def parse_http_body(self, request: Any) -> GraphQLRequestData | list[GraphQLRequestData]:
        data = await super().parse_http_body(request)
        for item in data if isinstance(data, list) else [data]:
            if not isinstance(item.operation_name, str | None):
                raise HTTPException(400, "operationName must be a string or null.")
        return data

    async def execute_operation(self, *args: Any, **kwargs: Any) -> Any:
        result = await super().execute_operation(*args, **kwargs)
        self._request_error = isinstance(result, ExecutionResult) and is_request_error(result)
        return result

    async def process_result(
        self, request: HttpRequest, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        return graphql_payload(result, graphql_response=self._graphql_response)

    def encode_json(self, data: object) -> str:
        """Strawberry's encoding, with its encoder built once instead of per response."""
        return _RESPONSE_ENCODER.encode(data)

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: HttpResponse,
    ) -> HttpResponseBase:
        return graphql_http_response(
            response_data,
            sub_response,
            graphql_response=self._graphql_response,
            request_error=self._request_error,
        )

    async def get_sub_response(self, request: HttpRequest) -> TemporalHttpResponse:
        return SubResponse()

    async def render_graphql_ide(self, request: HttpRequest) -> HttpResponse:
        """Strawberry's GraphiQL with vendored assets; sets the CSRF cookie GraphiQL sends back.
        Its policy allows its own inline scripts (by hash), its assets (here or on the CDN) and
        React's inline styles, and nothing else."""
        get_token(request)
        html = offline_html(self.graphql_ide_html)
        response = HttpResponse(html)
        response["Content-Security-Policy"] = graphiql_policy(html)
        return response

    async def get_context(self, request: HttpRequest, response: HttpResponse) -> ApiContext:
        return ApiContext(
            request=request, response=response, viewer=getattr(self, "_viewer", AnonymousUser())
        )


_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def graphiql_policy(html: str) -> str:
    """GraphiQL's Content-Security-Policy: its inline scripts by their SHA-256, assets from this
    origin or the CDN it falls back to, inline styles (React sets them), requests to us only."""
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"
        for script in _INLINE_SCRIPT.findall(html)
    )
    return (
        f"default-src 'none'; script-src 'self' {CDN} {hashes}; "
        f"style-src 'self' {CDN} 'unsafe-inline'; img-src 'self' data: {CDN}; "
        f"font-src 'self' data: {CDN}; connect-src 'self'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    )


def graphql_view(schema: Any) -> Any:
    """The endpoint, exempt from the CSRF middleware: ``dispatch`` runs the check itself."""
    return csrf_exempt(LedgerGraphQLView.as_view(schema=schema))


def _viewer(request: HttpRequest) -> Any:
    try:
        viewer = viewer_from_token(request)
    except InvalidToken:
        return None
    return viewer if viewer is not None else request.user


def export_download(request: HttpRequest, job_id: int) -> HttpResponseBase:
    """The file of a finished export job, for the exported user or staff; 404 for anyone else."""
    viewer = _viewer(request)
    if viewer is None:
        return _unauthorized("Invalid or revoked API token.")
    if not viewer.is_authenticated:
        return _unauthorized("Sign in or send a bearer token to download an export.")
    job = LedgerJob.objects.filter(pk=job_id, kind=LedgerJob.Kind.EXPORT).first()
    if job is None or not is_owner_or_staff(viewer, job.parameters.get("user_id")):
        raise Http404("No such export.")
    name = (job.result or {}).get("file")
    if not name:
        raise Http404("This export has no file (not finished, or deleted).")
    directory = Path(settings.LEDGER_EXPORT_DIR).resolve()
    path = (directory / Path(str(name)).name).resolve()
    if path.parent != directory or not path.is_file():
        raise Http404("This export's file is gone.")
    return FileResponse(
        path.open("rb"), as_attachment=True, filename=path.name, content_type="application/json"
    )
