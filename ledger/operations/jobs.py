"""Jobs: each operation is recorded as a ``LedgerJob`` (the audit trail), run inline or on Celery.

``submit_job`` validates parameters before it writes anything, records the job, then runs it at
once when ``settings.CELERY_BROKER_URL`` is empty (the embedded default) or enqueues it after the
commit. A failed job keeps a clear ``error``; each service's own transactions guarantee nothing is
left half-written. An anonymization job never holds the user's id or name: only the public id of
their erased subject.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ledger import metrics
from ledger.exceptions import InvalidJobError
from ledger.models import ErasedSubject, LedgerJob
from ledger.models.erasure import user_digest
from ledger.operations.backfill import backfill_activity, resolve_sources
from ledger.operations.gdpr import anonymize_user, export_user_activity
from ledger.operations.progress import ProgressCallback
from ledger.operations.reconcile import reconcile_stats

logger = logging.getLogger("ledger.jobs")

Kind = LedgerJob.Kind
PROGRESS_EVERY_SECONDS = 1.0


@dataclass(frozen=True)
class PreparedJob:
    """Validated parameters: what the job row stores and what only the runner may know."""

    kind: str
    parameters: dict[str, Any]
    user_id: int | None = None
    """The subject of an anonymization: passed to the runner, never stored on the job."""


def submit_job(*, kind: str, parameters: dict[str, Any], requested_by: Any | None) -> LedgerJob:
    """Record a job and run it inline (no broker: returns it finished) or enqueue it (pending)."""
    prepared = prepare_job(kind=kind, parameters=parameters, requested_by=requested_by)
    job = _create(prepared, requested_by)
    if getattr(settings, "CELERY_BROKER_URL", None):
        from ledger.tasks import run_ledger_job

        kwargs = {"user_id": prepared.user_id} if prepared.user_id is not None else {}
        transaction.on_commit(lambda: run_ledger_job.delay(job.pk, **kwargs))
        return job
    return run_job(job_id=job.pk, user_id=prepared.user_id)


def run_job_now(
    *,
    kind: str,
    parameters: dict[str, Any],
    requested_by: Any | None = None,
    progress: ProgressCallback | None = None,
    export_to: TextIO | None = None,
) -> tuple[LedgerJob, Any]:
    """Record and run a job in this process (commands): returns the job and the service's report.

    ``export_to`` sends an export to that stream instead of a file under ``LEDGER_EXPORT_DIR``.
    """
    prepared = prepare_job(kind=kind, parameters=parameters, requested_by=requested_by)
    job = _create(prepared, requested_by)
    holder: dict[str, Any] = {}
    job = run_job(
        job_id=job.pk,
        user_id=prepared.user_id,
        progress=progress,
        export_to=export_to,
        report_to=holder,
    )
    return job, holder.get("report")


def prepare_job(*, kind: str, parameters: dict[str, Any], requested_by: Any | None) -> PreparedJob:
    """Validate and normalise parameters; raise ``InvalidJobError`` (or ``UnknownSourceError``)."""
    if kind == Kind.BACKFILL:
        sources = parameters.get("sources")
        if sources is not None:
            if isinstance(sources, str) or not all(isinstance(s, str) for s in sources):
                raise InvalidJobError("sources must be a list of source names.")
            sources = [source.name for source in resolve_sources(sources)]
        return PreparedJob(kind, {"sources": sources, "dry_run": bool(parameters.get("dry_run"))})
    if kind == Kind.RECONCILE:
        user_ids = parameters.get("user_ids")
        if user_ids is not None:
            user_ids = _existing_user_ids(user_ids)
        return PreparedJob(kind, {"user_ids": user_ids, "fix": bool(parameters.get("fix"))})
    if kind == Kind.EXPORT:
        user = _user(parameters.get("user_id"))
        return PreparedJob(kind, {"user_id": user.pk})
    if kind == Kind.ANONYMIZE:
        user = _user(parameters.get("user_id"))
        existing = ErasedSubject.objects.filter(user_digest=user_digest(user.pk)).first()
        public_id = existing.public_id if existing else uuid.uuid4()
        stored: dict[str, Any] = {"erased_subject": str(public_id)}
        if requested_by is not None and requested_by.pk == user.pk:
            stored["requested_by"] = "subject"
        return PreparedJob(kind, stored, user_id=user.pk)
    valid = ", ".join(Kind.values)
    raise InvalidJobError(f"Unknown job kind {kind!r}. Valid kinds: {valid}.")


def _user(pk: Any) -> Any:
    if isinstance(pk, bool) or not isinstance(pk, int):
        raise InvalidJobError(f"A user id must be an integer, not {pk!r}.")
    user = get_user_model()._default_manager.filter(pk=pk).first()
    if user is None:
        raise InvalidJobError(f"Unknown user id {pk}.")
    return user


def _existing_user_ids(user_ids: Any) -> list[int]:
    """Validate a list of user ids in one query."""
    if isinstance(user_ids, str) or not all(
        isinstance(pk, int) and not isinstance(pk, bool) for pk in user_ids
    ):
        raise InvalidJobError("user_ids must be a list of integer user ids.")
    wanted = set(user_ids)
    found = set(
        get_user_model()._default_manager.filter(pk__in=wanted).values_list("pk", flat=True)
    )
    if wanted - found:
        missing = ", ".join(str(pk) for pk in sorted(wanted - found))
        raise InvalidJobError(f"Unknown user id(s): {missing}.")
    return sorted(found)


def _create(prepared: PreparedJob, requested_by: Any | None) -> LedgerJob:
    if prepared.parameters.get("requested_by") == "subject":
        requested_by = None  # a self-requested erasure must not point back at the person
    job = LedgerJob.objects.create(
        kind=prepared.kind, parameters=prepared.parameters, requested_by=requested_by
    )
    metrics.job_status_changed(kind=job.kind, status=job.status)
    return job


def run_job(
    *,
    job_id: int,
    user_id: int | None = None,
    progress: ProgressCallback | None = None,
    export_to: TextIO | None = None,
    report_to: dict[str, Any] | None = None,
) -> LedgerJob:
    """Run a recorded job to its end, keeping status, progress, result and error on its row."""
    job = LedgerJob.objects.get(pk=job_id)
    if job.status != LedgerJob.Status.PENDING:
        return job  # a redelivered task must not run an operation twice
    job.status, job.started_at = LedgerJob.Status.RUNNING, timezone.now()
    job.save(update_fields=["status", "started_at"])
    metrics.job_status_changed(kind=job.kind, status=job.status)
    track = _tracker(job, progress)
    try:
        result, report = _RUNNERS[job.kind](job, user_id, track, export_to)
    except Exception as error:
        logger.exception("ledger job %s (%s) failed", job.pk, job.kind)
        job.status, job.error = LedgerJob.Status.FAILED, f"{type(error).__name__}: {error}"
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "error", "finished_at"])
        metrics.job_status_changed(kind=job.kind, status=job.status)
        raise_in_caller = export_to is not None or report_to is not None
        if raise_in_caller:
            raise
        return job
    job.status, job.result, job.finished_at = LedgerJob.Status.SUCCEEDED, result, timezone.now()
    job.save(update_fields=["status", "result", "finished_at", "progress_done", "progress_total"])
    metrics.job_status_changed(kind=job.kind, status=job.status)
    if report_to is not None:
        report_to["report"] = report
    return job


def _tracker(job: LedgerJob, progress: ProgressCallback | None) -> ProgressCallback:
    """Progress to the caller at once, to the job row at most once a second (and at the end)."""
    last_saved = 0.0

    def track(done: int, total: int | None) -> None:
        nonlocal last_saved
        if progress is not None:
            progress(done, total)
        job.progress_done, job.progress_total = done, total
        now = time.monotonic()
        if now - last_saved >= PROGRESS_EVERY_SECONDS or (total is not None and done >= total):
            last_saved = now
            LedgerJob.objects.filter(pk=job.pk).update(progress_done=done, progress_total=total)

    return track


Runner = Callable[[LedgerJob, int | None, ProgressCallback, TextIO | None], tuple[dict, Any]]


def _run_backfill(
    job: LedgerJob, _: int | None, track: ProgressCallback, __: TextIO | None
) -> tuple[dict[str, Any], Any]:
    report = backfill_activity(
        sources=job.parameters.get("sources"),
        dry_run=bool(job.parameters.get("dry_run")),
        progress=track,
    )
    return report.as_dict(), report


def _run_reconcile(
    job: LedgerJob, _: int | None, track: ProgressCallback, __: TextIO | None
) -> tuple[dict[str, Any], Any]:
    report = reconcile_stats(
        user_ids=job.parameters.get("user_ids"), fix=bool(job.parameters.get("fix")), progress=track
    )
    return report.as_dict(with_usernames=False), report


def _run_export(
    job: LedgerJob, _: int | None, track: ProgressCallback, out: TextIO | None
) -> tuple[dict[str, Any], Any]:
    user = _user(job.parameters["user_id"])
    if out is not None:
        count = export_user_activity(user=user, out=out)
        track(count, count)
        return {"file": None, "events": count}, count
    directory = Path(settings.LEDGER_EXPORT_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    name = f"activity-export-{job.pk}-{uuid.uuid4().hex[:12]}.json"
    partial = directory / (name + ".partial")
    try:
        with partial.open("w", encoding="utf-8") as handle:
            count = export_user_activity(user=user, out=handle)
        partial.replace(directory / name)  # readers never see a half-written document
    finally:
        partial.unlink(missing_ok=True)
    track(count, count)
    return {"file": name, "events": count}, count


def _run_anonymize(
    job: LedgerJob, user_id: int | None, track: ProgressCallback, __: TextIO | None
) -> tuple[dict[str, Any], Any]:
    if user_id is None:
        raise InvalidJobError("An anonymization job needs its subject's user id from the caller.")
    user = _user(user_id)
    with transaction.atomic():
        subject = anonymize_user(user=user, public_id=uuid.UUID(job.parameters["erased_subject"]))
        if str(subject.public_id) != job.parameters["erased_subject"]:
            raise InvalidJobError("The erased subject changed while the job was queued.")
        _forget_in_jobs(user_id=user.pk, subject=subject, keep=job.pk)
    count = subject.activities.count()
    track(count, count)
    return {"erased_subject": str(subject.public_id), "events": count}, subject


def _forget_in_jobs(*, user_id: int, subject: ErasedSubject, keep: int) -> None:
    """Earlier jobs about the user name them by id: point those at the erased subject instead,
    and delete the export files they wrote (they hold the user's personal data)."""
    about = LedgerJob.objects.filter(
        Q(parameters__user_id=user_id) | Q(kind=Kind.RECONCILE, parameters__user_ids__isnull=False)
    ).exclude(pk=keep)
    for job in about.iterator():
        parameters = dict(job.parameters)
        if parameters.get("user_id") == user_id:
            del parameters["user_id"]
            parameters["erased_subject"] = str(subject.public_id)
        if isinstance(parameters.get("user_ids"), list) and user_id in parameters["user_ids"]:
            parameters["user_ids"] = [pk for pk in parameters["user_ids"] if pk != user_id]
            parameters["erased_subjects"] = [str(subject.public_id)]
        result = dict(job.result)
        if job.kind == Kind.EXPORT and result.get("file"):
            (Path(settings.LEDGER_EXPORT_DIR) / Path(result["file"]).name).unlink(missing_ok=True)
            result["file_deleted"] = True
        if (parameters, result) != (job.parameters, job.result):
            job.parameters, job.result = parameters, result
            job.save(update_fields=["parameters", "result"])


_RUNNERS: dict[str, Runner] = {
    Kind.BACKFILL: _run_backfill,
    Kind.RECONCILE: _run_reconcile,
    Kind.EXPORT: _run_export,
    Kind.ANONYMIZE: _run_anonymize,
}
