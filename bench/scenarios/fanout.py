"""6. Subscription fan-out: commit-to-delivery latency of one event to N subscribers
(``activityAdded`` over graphql-transport-ws) held by ONE uvicorn worker, on the Redis channel
layer (the production layer; the in-memory one cannot reach a worker from another process).

The scenario runs in a child process (``python -m bench.scenarios.fanout``) whose Django uses
Redis as well: it opens N WebSocket clients in one asyncio loop, records a DeltaCoin
transaction of the subscribed user through the platform's save, stamps the moment the
transaction commits (an ``on_commit`` callback registered before the ledger's own), and each
client stamps the moment it has parsed the event. Latency = receipt - commit, every client,
every event. No floor: the issue asks for the median and p99.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from typing import Any

from bench.common import Mode, Result, summary
from bench.dataset import DatasetSize, first_user_id

REDIS_DB = 13
SUBSCRIPTION = """subscription Feed($userId: ID) {
  activityAdded(userId: $userId) { cursor node { id eventType amount } } }"""


def run(*, mode: Mode, size: DatasetSize) -> Result:
    from bench.api import ROOT, server_env

    result = Result("fanout")
    user_id = first_user_id() + size.heavy_users + 2
    env = server_env(
        REDIS_URL=os.environ.get("BENCH_REDIS_URL", f"redis://127.0.0.1:6379/{REDIS_DB}"),
        CHANNEL_LAYER_PREFIX=f"bench-{uuid.uuid4().hex[:10]}",
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.scenarios.fanout",
            "--subscribers",
            str(mode.subscribers),
            "--events",
            str(mode.fanout_events),
            "--user",
            str(user_id),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"fan-out child failed:\n{done.stderr[-3000:]}")
    child = json.loads(done.stdout.strip().splitlines()[-1])
    result.figure(f"commit to delivery, {mode.subscribers} subscribers", "ms", child["latencies"])
    result.figure("last subscriber of each event", "ms", child["last"])
    result.notes.append(
        f"{mode.subscribers} subscribers on one uvicorn worker (Redis channel layer), "
        f"{mode.fanout_events} events; {child['missed']} deliveries missed; connecting all "
        f"took {child['connect_s']:.1f}s"
    )
    return result


# --- the child process ------------------------------------------------------------------------


async def _client(
    url: str, token: str, user_id: int, ready: asyncio.Event, inbox: dict[int, float]
) -> Any:
    from websockets.asyncio.client import connect

    from graphql_api.nodes.ids import decode_global_id

    ws = await connect(url, subprotocols=["graphql-transport-ws"], max_queue=None)  # type: ignore[list-item]
    await ws.send(
        json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
    )
    ack = json.loads(await ws.recv())
    if ack.get("type") != "connection_ack":
        raise RuntimeError(f"not acknowledged: {ack}")
    await ws.send(
        json.dumps(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": SUBSCRIPTION, "variables": {"userId": str(user_id)}},
            }
        )
    )
    ready.set()

    async def listen() -> None:
        async for raw in ws:
            message = json.loads(raw)
            if message.get("type") == "next":
                node = message["payload"]["data"]["activityAdded"]["node"]
                inbox[decode_global_id(node["id"])[1]] = time.time()
            elif message.get("type") == "ping":
                await ws.send(json.dumps({"type": "pong"}))

    return ws, asyncio.ensure_future(listen())


def _record(user_id: int, stamps: list[float]) -> None:
    from django.db import transaction

    from esports.economy.models import DeltaCrownTransaction, DeltaCrownWallet

    wallet = DeltaCrownWallet.objects.get(user_id=user_id)
    with transaction.atomic():
        transaction.on_commit(lambda: stamps.append(time.time()))
        DeltaCrownTransaction.objects.create(wallet=wallet, amount=1, reason="winner")


def _latest_event(user_id: int) -> int:
    from ledger.models import UserActivity

    return int(
        UserActivity.objects.filter(user_id=user_id).order_by("-id").values_list("id", flat=True)[0]
    )


async def _main(subscribers: int, events: int, user_id: int) -> dict[str, Any]:
    from asgiref.sync import sync_to_async
    from django.contrib.auth import get_user_model

    from bench.api import uvicorn_server
    from graphql_api.auth.tokens import issue_api_token

    user = await sync_to_async(get_user_model().objects.get)(pk=user_id)
    _, token = await sync_to_async(issue_api_token)(user=user, name="bench fanout")
    latencies: list[float] = []
    last: list[float] = []
    missed = 0
    with uvicorn_server(REDIS_URL=os.environ["REDIS_URL"]) as port:
        url = f"ws://127.0.0.1:{port}/graphql/"
        inboxes: list[dict[int, float]] = [{} for _ in range(subscribers)]
        gate = asyncio.Semaphore(50)
        started = time.perf_counter()

        async def open_one(i: int) -> Any:
            async with gate:
                return await _client(url, token, user_id, asyncio.Event(), inboxes[i])

        clients = await asyncio.gather(*(open_one(i) for i in range(subscribers)))
        connect_s = time.perf_counter() - started

        async def deliver(warm: bool) -> None:
            nonlocal missed
            stamps: list[float] = []
            await sync_to_async(_record)(user_id, stamps)
            event_id = await sync_to_async(_latest_event)(user_id)
            deadline = time.monotonic() + (2 if warm else 30)
            while time.monotonic() < deadline:
                if all(event_id in inbox for inbox in inboxes):
                    break
                await asyncio.sleep(0.002)
            got = [inbox[event_id] for inbox in inboxes if event_id in inbox]
            if warm:
                return
            missed += subscribers - len(got)
            latencies.extend((at - stamps[0]) * 1000 for at in got)
            if got:
                last.append((max(got) - stamps[0]) * 1000)

        # Warm up until every subscription has joined its group and delivered once.
        for _ in range(20):
            await deliver(warm=True)
            await asyncio.sleep(0.2)
            if all(inboxes):
                break
        for _ in range(events):
            await deliver(warm=False)
            await asyncio.sleep(0.1)
        for ws, task in clients:
            task.cancel()
            await ws.close()
    return {"latencies": latencies, "last": last, "missed": missed, "connect_s": connect_s}


def child() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, required=True)
    parser.add_argument("--events", type=int, required=True)
    parser.add_argument("--user", type=int, required=True)
    args = parser.parse_args()
    import django

    django.setup()
    out = asyncio.run(_main(args.subscribers, args.events, args.user))
    print(json.dumps(out))
    print(
        json.dumps({k: summary(v) for k, v in out.items() if isinstance(v, list) and v}),
        file=sys.stderr,
    )


if __name__ == "__main__":
    child()
