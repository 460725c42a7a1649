"""The dashboard and the alert rules name only metrics the service exports, and chart them all.

The service is exercised first (events and duplicates, a drifted user reconciled, a failed
job, GraphQL successes and errors), because a labelled metric shows no sample until it moved.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from tests.factories import UserFactory
from tests.observability.exercise import exercise_everything

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"

PROMQL_WORDS = {
    # functions
    "abs", "absent", "avg_over_time", "ceil", "clamp_max", "clamp_min", "count", "delta",
    "histogram_quantile", "increase", "irate", "label_replace", "max", "max_over_time", "min",
    "min_over_time", "rate", "round", "scalar", "sort", "sum", "time", "topk", "vector", "avg",
    # keywords
    "and", "or", "unless", "bool", "by", "without", "on", "ignoring", "group_left",
    "group_right", "offset",
}  # fmt: skip


def metric_names(expr: str) -> set[str]:
    """Metric names in a PromQL expression: what remains after strings, label matchers,
    ranges, grouping clauses, functions, keywords and numbers are taken out."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    expr = re.sub(r"\{[^}]*\}", " ", expr)
    expr = re.sub(r"\[[^\]]*\]", " ", expr)
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expr)
    names = set(re.findall(r"(?<![\w.:])[A-Za-z_:][\w:]*", expr))
    return names - PROMQL_WORDS


def dashboard_exprs() -> list[str]:
    dashboard = json.loads((DEPLOY / "grafana-dashboard.json").read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def alert_rules() -> list[dict]:
    document = yaml.safe_load((DEPLOY / "alerts.yml").read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def test_metric_names_are_read_from_promql():
    expr = (
        'sum(rate(a_total{kind="server",x=~"y"}[5m])) / clamp_min(sum by (le, op) '
        '(rate(b_bucket[1h])), 1e-3) > 26 * 3600 and time() - max(c{s="all"}) > 0.5'
    )
    assert metric_names(expr) == {"a_total", "b_bucket", "c"}


@pytest.fixture
def scraped(django_capture_on_commit_callbacks, settings) -> set[str]:
    exercise_everything(UserFactory.create(), django_capture_on_commit_callbacks)
    settings.METRICS_TOKEN = "scrape"
    response = Client().get("/metrics", headers={"Authorization": "Bearer scrape"})
    assert response.status_code == 200
    text = response.content.decode()
    return {
        sample.name for family in text_string_to_metric_families(text) for sample in family.samples
    }


@pytest.mark.django_db
def test_every_metric_the_dashboard_and_the_alerts_name_is_exported(scraped):
    named = {name for expr in dashboard_exprs() for name in metric_names(expr)}
    named_by_alerts = {name for rule in alert_rules() for name in metric_names(rule["expr"])}
    assert named_by_alerts <= named, "an alert watches what the dashboard does not show"
    assert named - scraped == set()


@pytest.mark.django_db
def test_the_dashboard_charts_every_family_the_ledger_and_the_api_export(scraped):
    families = {
        re.sub(r"_(total|bucket|count|sum|created)$", "", name)
        for name in scraped
        if name.startswith(("ledger_", "graphql_"))
    }
    charted = {
        re.sub(r"_(total|bucket|count|sum|created)$", "", name)
        for expr in dashboard_exprs()
        for name in metric_names(expr)
    }
    assert families - charted == set()


def test_alert_rules_cover_drift_failed_jobs_stale_leases_and_error_rate():
    rules = {rule["alert"]: rule for rule in alert_rules()}
    for rule in rules.values():
        assert rule["labels"]["severity"] in {"warning", "critical"}
        assert rule["annotations"]["summary"]
    assert "ledger_reconcile_drift_found" in rules["LedgerDriftFoundByReconcile"]["expr"]
    assert 'status="failed"' in rules["LedgerJobsFailed"]["expr"]
    assert 'kind="server"' in rules["GraphQLServerErrorRate"]["expr"]
    assert "ledger_jobs_stale_leases" in rules["LedgerJobPastItsLease"]["expr"]


def test_prometheus_example_scrapes_one_target_and_loads_the_rules():
    config = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    assert config["rule_files"] == ["alerts.yml"]
    [job] = config["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    [targets] = job["static_configs"]
    assert len(targets["targets"]) == 1, "each worker answers for the machine: scrape one"


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed")
def test_promtool_accepts_the_rules():  # pragma: no cover - only where promtool exists
    done = subprocess.run(
        ["promtool", "check", "rules", str(DEPLOY / "alerts.yml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
