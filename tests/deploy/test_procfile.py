"""The one-machine deployment, for real: ``deploy/start`` (honcho, deploy/Procfile) on a fresh
PostgreSQL database and a Redis db of its own, three uvicorn workers, a Celery worker and beat.

Events are recorded by another process (the platform's own saves in ``manage.py shell``) and
by a reconcile job that a staff mutation on worker 1 sends to the Celery worker; they are read
over HTTP from worker 2 and received on a subscription held by worker 3; every worker's
/metrics shows the whole machine. Then SIGTERM, and every process must be gone. Every wait is
bounded; the whole test takes about 20 seconds.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.conf import settings
from gql import gql
from prometheus_client.parser import text_string_to_metric_families

from tests.support import processes, services
from tests.support.processes import run_python
from tests.support.servers import deploy_environment, start_deploy, subscription_client

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(150)]

METRICS_TOKEN = "deploy-test-scrape-token"
REDIS_DB = 14
"""A Redis db of this test's own (the live-feed tests use 11)."""
WAIT = 30.0
STOP_WAIT = 25.0

SETUP = """
import json
from django.contrib.auth import get_user_model
from graphql_api.auth.tokens import issue_api_token
U = get_user_model()
ops = U.objects.create_user(username="ops", password=None, is_staff=True)
alice = U.objects.create_user(username="alice", password=None)
print(json.dumps({"alice": alice.pk, "ops_token": issue_api_token(user=ops)[1],
                  "alice_token": issue_api_token(user=alice)[1]}))
"""

UNLOCK = """
from django.contrib.auth import get_user_model
from esports.achievements.models import Achievement, UserAchievement
alice = get_user_model().objects.get(username="alice")
made = [Achievement.objects.create(code=c, name=c) for c in ("first-blood", "ace", "clutch")]
UserAchievement.objects.create(user=alice, achievement=made[0])
UserAchievement.objects.create(user=alice, achievement=made[1])
# written without signals (as a bulk import would be): the ledger misses it until a reconcile
UserAchievement.objects.bulk_create([UserAchievement(user=alice, achievement=made[2])])
"""

FEED = "subscription Live { activityAdded { cursor node { id eventType } } }"
RECONCILE = """mutation ReconcileNow { reconcileStats(input: {fix: true}) { id status } }"""
JOB = """query JobState($id: ID!) { ledgerJob(id: $id) { status result error } }"""
READ_FEED = """query MyFeed { activityFeed(first: 20) { edges { node { id eventType } } } }"""


def redis_url() -> str:
    return services.redis_url(REDIS_DB)


def server_url(name: str) -> str:
    return services.postgres_url(settings.DATABASES["default"], name)


def admin_connection() -> psycopg.Connection:
    s = settings.DATABASES["default"]
    return psycopg.connect(
        dbname="postgres",
        user=s["USER"],
        password=s.get("PASSWORD") or None,
        host=s.get("HOST") or "127.0.0.1",
        port=s.get("PORT") or 5432,
        autocommit=True,
        connect_timeout=10,
    )


@pytest.fixture
def fresh_database() -> Iterator[str]:
    """A new, empty database for this run; dropped (connections and all) afterwards."""
    name = f"dc_deploy_{uuid.uuid4().hex[:10]}"
    with admin_connection() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server_url(name)
    finally:
        with admin_connection() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Deployment:
    process: subprocess.Popen[bytes]
    log: Path
    ports: list[int]
    env: dict[str, str]

    def url(self, n: int, path: str) -> str:
        return f"http://127.0.0.1:{self.ports[n]}{path}"

    def owns(self, pid: int) -> bool:
        """Still one of this deployment's processes (its environment names our prefix)."""
        marker = f"CHANNEL_LAYER_PREFIX={self.env['CHANNEL_LAYER_PREFIX']}".encode()
        try:
            return marker in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            return False

    def pids(self) -> dict[str, int]:
        text = self.log.read_text(errors="replace")
        return {m[0]: int(m[1]) for m in re.findall(r"(\S+) started \(pid=(\d+)\)", text)}


def manage(env: dict[str, str], *args: str) -> str:
    return run_python(["manage.py", *args], env=env, timeout=90).stdout


def http(url: str, *, body: dict | None = None, token: str | None = None) -> tuple[int, bytes]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def graphql(deployment: Deployment, n: int, query: str, token: str, **variables: Any) -> dict:
    status, body = http(
        deployment.url(n, "/graphql/"), body={"query": query, "variables": variables}, token=token
    )
    assert status == 200, body
    result = json.loads(body)
    assert "errors" not in result, result
    return result["data"]


def samples(deployment: Deployment, n: int) -> dict[tuple[str, frozenset], float]:
    assert http(deployment.url(n, "/metrics"))[0] == 401  # the token is required
    status, body = http(deployment.url(n, "/metrics"), token=METRICS_TOKEN)
    assert status == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
    }


def metric(found: dict[tuple[str, frozenset], float], name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def wait_until(check: Any, what: str, timeout: float = WAIT) -> Any:
    return processes.wait_until(check, what, timeout=timeout)


@pytest.fixture
def deployment(fresh_database: str, tmp_path: Path) -> Iterator[Deployment]:
    redis = redis_url()
    import redis as redis_client

    redis_client.Redis.from_url(redis, socket_timeout=5).flushdb()
    base = services.free_ports(3)
    env = deploy_environment(
        database_url=fresh_database,
        redis_url=redis,
        scratch=tmp_path,
        port=base,
        web_processes=3,
        prefix="dcdeploy",
    )
    metrics_dir = Path(env["PROMETHEUS_MULTIPROC_DIR"])
    metrics_dir.mkdir()
    (metrics_dir / "counter_999999.db").write_bytes(b"stale")  # deploy/start must clear it
    env.update(
        LEDGER_EXPORT_DIR=str(tmp_path / "exports"),
        LOG_FORMAT="json",
        METRICS_TOKEN=METRICS_TOKEN,
    )
    manage(env, "migrate", "--verbosity", "0")
    log = tmp_path / "honcho.log"
    process = start_deploy(env, log)
    running = Deployment(process, log, [base, base + 1, base + 2], env)
    try:
        yield running
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        for pid in running.pids().values():
            if running.owns(pid):  # a pid reused by someone else's process is left alone
                os.kill(pid, signal.SIGKILL)
        redis_client.Redis.from_url(redis, socket_timeout=5).flushdb()


def test_procfile_runs_the_ledger_across_processes_and_stops_cleanly(deployment: Deployment):
    d = deployment

    def ready() -> bool:
        for n in range(3):
            try:
                if http(d.url(n, "/readyz"))[0] != 200:
                    return False
            except OSError:
                return False
        return "celery@" in d.log.read_text(errors="replace") and " ready." in d.log.read_text(
            errors="replace"
        )

    wait_until(ready, "three ready web workers and a ready Celery worker")
    assert not (Path(d.env["PROMETHEUS_MULTIPROC_DIR"]) / "counter_999999.db").exists()
    assert {"web.1", "web.2", "web.3", "worker.1", "beat.1"} <= set(d.pids())
    ids = json.loads(manage(d.env, "shell", "-c", SETUP).strip().splitlines()[-1])

    async def scenario() -> tuple[list[dict], dict, dict[tuple[str, frozenset], float]]:
        from graphql_api.subscriptions.groups import user_group

        ws_url = f"ws://127.0.0.1:{d.ports[2]}/graphql/"
        async with subscription_client(ws_url, ids["alice_token"]) as live:
            stream = live.subscribe(gql(FEED))
            first = asyncio.ensure_future(anext(stream))
            group = f"{d.env['CHANNEL_LAYER_PREFIX']}:group:{user_group(ids['alice'])}"

            def joined() -> bool:
                import redis

                client = redis.Redis.from_url(d.env["REDIS_URL"], socket_timeout=5)
                return bool(client.zcard(group))

            await asyncio.to_thread(wait_until, joined, "the subscription to join its group")
            # 1. the platform's own saves, in another process: two events
            await asyncio.to_thread(manage, d.env, "shell", "-c", UNLOCK)
            # 2. a reconcile job, asked of web worker 1, run by the Celery worker: the third
            job = await asyncio.to_thread(graphql, d, 0, RECONCILE, ids["ops_token"])
            job_id = job["reconcileStats"]["id"]
            async with asyncio.timeout(WAIT):
                received = [(await first)["activityAdded"]]
                while len(received) < 3:
                    received.append((await anext(stream))["activityAdded"])

            def finished() -> dict | None:
                state = graphql(d, 1, JOB, ids["ops_token"], id=job_id)["ledgerJob"]
                return state if state["status"] in ("SUCCEEDED", "FAILED") else None

            state = await asyncio.to_thread(wait_until, finished, "the reconcile job to finish")
            during = await asyncio.to_thread(samples, d, 1)
        return received, state, during

    received, state, during = asyncio.run(scenario())

    # read through web worker 2: the same three events the subscription on worker 3 received
    feed = graphql(d, 1, READ_FEED, ids["alice_token"])["activityFeed"]["edges"]
    assert sorted(e["node"]["id"] for e in feed) == sorted(e["node"]["id"] for e in received)
    assert [e["node"]["eventType"] for e in received] == ["ACHIEVEMENT_UNLOCKED"] * 3

    # the job ran on the Celery worker and found exactly the unsignalled unlock
    assert state["status"] == "SUCCEEDED", state
    assert state["error"] == ""
    result = state["result"]
    assert result["missing_events"] == {"achievements.unlock": {"achievement_unlocked": 1}}
    assert (result["recorded_events"], result["drifted"], result["users_checked"]) == (1, [], 2)
    log = d.log.read_text(errors="replace")
    assert re.search(r"worker\.1 .*ledger\.run_job\[.*\] received", log)

    # metrics of every process (shell, Celery child, each web worker), read from worker 2
    unlock = {"event_type": "achievement_unlocked", "source": "achievements.unlock"}
    assert metric(during, "ledger_events_recorded_total", **unlock) == 3
    assert metric(during, "ledger_jobs_total", kind="reconcile", status="succeeded") == 1
    assert metric(during, "ledger_reconcile_drift_found", kind="events", scope="all") == 1
    assert metric(during, "ledger_reconcile_drift_fixed", kind="events", scope="all") == 1
    assert metric(during, "graphql_open_subscriptions") == 1  # held by worker 3
    served_by_1 = {"operation": "ReconcileNow", "type": "mutation"}
    assert metric(during, "graphql_operation_duration_seconds_count", **served_by_1) == 1
    after = wait_until(
        lambda: (s := samples(d, 0)) and metric(s, "graphql_open_subscriptions") == 0 and s,
        "the closed subscription to leave the gauge",
    )
    assert metric(after, "ledger_events_recorded_total", **unlock) == 3  # same from worker 1

    # logs: JSON lines from the web workers, with request ids and no addresses or names
    request_lines = [
        json.loads(line.split("| ", 1)[1])
        for line in log.splitlines()
        if re.match(r"\S+ web\.\d +\| \{", line) and '"deltacrown.request"' in line
    ]
    assert any(r.get("graphql_operation") == "ReconcileNow" for r in request_lines)
    assert all(len(r["request_id"]) == 32 for r in request_lines)
    assert "127.0.0.1:" not in "\n".join(line for line in log.splitlines() if "web." in line)
    # the worker's lines for the job carry the id of the request that sent it, and the task
    [sent_by] = [r for r in request_lines if r.get("graphql_operation") == "ReconcileNow"]
    worker_lines = [
        json.loads(line.split("| ", 1)[1])
        for line in log.splitlines()
        if re.match(r"\S+ worker\.1 +\| \{", line)
    ]
    assert any(
        r.get("request_id") == sent_by["request_id"] and r.get("task_name") == "ledger.run_job"
        for r in worker_lines
    ), worker_lines

    # stop: SIGTERM to honcho, which passes it on; everything exits in time
    pids = d.pids()
    d.process.send_signal(signal.SIGTERM)
    d.process.wait(timeout=STOP_WAIT)

    wait_until(lambda: not any(d.owns(pid) for pid in pids.values()), "every exit", 10)
    log = d.log.read_text(errors="replace")
    for name in pids:
        assert re.search(rf"{re.escape(name)} stopped \(rc=", log), name
    assert "worker.1 stopped (rc=0)" in log
    assert "beat.1 stopped (rc=0)" in log
    assert "SIGKILL" not in log, "a process had to be killed"
