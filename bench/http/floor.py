"""The HTTP floor: the smallest honest ASGI app that does what a project request must do.

Per request: read the body and parse its JSON, hash the bearer token and look up its active
user (token row JOIN user, one round trip), read the stats row by key or a keyset page of 50
events, and answer the same JSON document the project does. psycopg's async pool (prepared
statements on, psycopg's default), no framework. Run: ``uvicorn bench.http.floor:app`` with
``FLOOR_DATABASE_URL``; ``POST /stats`` and ``POST /feed`` (the path picks the read).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import datetime
from typing import Any

from psycopg_pool import AsyncConnectionPool

from ledger.counters import COUNTER_FIELDS

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

TOKEN = (
    "SELECT u.id FROM graphql_api_apitoken t JOIN auth_user u ON u.id = t.user_id "
    "WHERE t.digest = %s AND t.revoked_at IS NULL AND u.is_active"
)
STATS = (
    f"SELECT u.id, s.user_id, {', '.join('s.' + c for c in COUNTER_FIELDS)}, s.last_activity_at "
    "FROM auth_user u LEFT JOIN ledger_userprofilestats s ON s.user_id = u.id WHERE u.id = %s"
)
FEED = (
    "SELECT e.id, e.event_type, e.timestamp, e.metadata, e.source_model, e.source_id, e.amount, "
    "e.reverses_id, r.event_type FROM ledger_useractivity e "
    "LEFT JOIN ledger_useractivity r ON r.id = e.reverses_id "
    "WHERE e.user_id = %s ORDER BY e.timestamp DESC, e.id DESC LIMIT %s"
)
PAGE = 50

_pool: AsyncConnectionPool | None = None


async def pool() -> AsyncConnectionPool:
    global _pool
    if _pool is None:
        _pool = AsyncConnectionPool(
            os.environ["FLOOR_DATABASE_URL"], min_size=2, max_size=10, open=False
        )
        await _pool.open()
    return _pool


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _cursor(at: datetime, event_id: int) -> str:
    return base64.urlsafe_b64encode(f"feed:{at.isoformat()}:{event_id}".encode()).decode()


def _stats(row: tuple[Any, ...]) -> dict[str, Any]:
    values = dict(zip(COUNTER_FIELDS, row[2:-1], strict=True))
    played, won = values["matches_played"], values["matches_won"]
    entered = values["tournaments_played"]
    document = {_camel(name): value for name, value in values.items()}
    document["winRate"] = won / played if played else 0.0
    document["tournamentWinRate"] = values["tournaments_won"] / entered if entered else 0.0
    document["netEarnings"] = values["total_earned"] - values["total_spent"]
    last = row[-1]
    document["lastActivityAt"] = last.isoformat() if last else None
    return {"stats": document}


def _edge(row: tuple[Any, ...]) -> dict[str, Any]:
    event_id, event_type, at, metadata, source_model, source_id, amount, reverses, undone = row
    return {
        "cursor": _cursor(at, event_id),
        "node": {
            "id": str(event_id),
            "eventType": event_type.upper(),
            "timestamp": at.isoformat(),
            "metadata": metadata,
            "sourceModel": source_model,
            "sourceId": source_id,
            "amount": amount,
            "correctsId": str(reverses) if reverses else None,
            "correctsEventType": undone.upper() if undone else None,
        },
    }


def _feed(rows: list[tuple[Any, ...]]) -> dict[str, Any]:
    edges = [_edge(row) for row in rows[:PAGE]]
    end = edges[-1]["cursor"] if edges else None
    return {
        "activityFeed": {
            "edges": edges,
            "pageInfo": {"hasNextPage": len(rows) > PAGE, "endCursor": end},
        }
    }


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _answer(send: Send, status: int, document: dict[str, Any]) -> None:
    body = json.dumps(document).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    request = json.loads(await _body(receive) or b"{}")
    header = dict(scope["headers"]).get(b"authorization", b"").decode()
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        await _answer(send, 401, {"errors": [{"message": "A bearer token is required."}]})
        return
    digest = hashlib.sha256(token.strip().encode()).hexdigest()
    async with (await pool()).connection() as conn:
        viewer = await (await conn.execute(TOKEN, [digest])).fetchone()
        if viewer is None:
            await _answer(send, 401, {"errors": [{"message": "Invalid or revoked API token."}]})
            return
        if scope["path"].rstrip("/").endswith("feed"):
            first = int((request.get("variables") or {}).get("first") or PAGE)
            rows = await (await conn.execute(FEED, [viewer[0], min(first, PAGE) + 1])).fetchall()
            data = _feed(rows)
        else:
            user_id = int((request.get("variables") or {})["userId"])
            row = await (await conn.execute(STATS, [user_id])).fetchone()
            if row is None:
                await _answer(send, 200, {"data": None, "errors": [{"message": "No user."}]})
                return
            data = _stats(row)
    await _answer(send, 200, {"data": data})
