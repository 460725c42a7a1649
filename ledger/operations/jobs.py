"""Jobs: each operation is recorded as a ``LedgerJob`` (the audit trail), run inline or on Celery.

``submit_job`` validates parameters before it writes anything, records the job, then runs it at
once when ``settings.CELERY_BROKER_URL`` is empty (the embedded default) or enqueues it after the
commit. Whoever runs it first takes its lease (``ledger.operations.leases``): a job whose worker
died is taken again, from the operation's checkpoints, by the next worker that sweeps; an attempt
that fails is tried again, up to ``LEDGER_JOB_MAX_ATTEMPTS``, every attempt's error kept. Each
service's own transactions guarantee nothing is left half-written. An anonymization job never
holds the user's id or name: only the public id of their erased subject, and the keyed digest
the erasure keeps anyway (so that another worker can find the subject again).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import close_old_connections, connection, transaction
from django.db.models import Q
from django.db.models.functions import Now

from ledger import metrics
from ledger.exceptions import InvalidJobError, LedgerError
from ledger.models import ErasedSubject, LedgerJob
from ledger.models.erasure import user_digest
from ledger.operations import leases
from ledger.operations.archive import archive_activity, parse_before
from ledger.operations.backfill import backfill_activity, resolve_sources
from ledger.operations.gdpr import anonymize_user, export_user_activity
from ledger.operations.progress import OperationStopped, ProgressCallback
from ledger.operations.reconcile import reconcile_stats

logger = logging.getLogger("ledger.jobs")

Kind = LedgerJob.Kind
Status = LedgerJob.Status


@dataclass(frozen=True)
class PreparedJob:
    """Validated parameters: what the job row stores and what only the runner may know."""

    kind: str
    parameters: dict[str, Any]
    user_id: int | None = None
    """The subject of an anonymization: passed to the runner, never stored on the job."""
    subject_digest: str = ""
    """The subject's keyed digest (``ErasedSubject.user_digest``): how a worker that takes the
    job again, without the message that carried ``user_id``, finds the subject."""


class JobStoppedError(LedgerError):
    """A job run in this process stopped before its end: cancelled, or taken by another worker
    (this one lost its lease). What committed stays; a backfill resumes from there."""

    def __init__(self, job: LedgerJob) -> None:
        if job.status == Status.CANCELLED:
            how = "was cancelled"
        elif job.lease_owner:
            how = f"is held by another worker now ({job.lease_owner})"
        else:
            how = f"was ended by another worker ({job.status}) after this one lost its lease"
        super().__init__(f"Job {job.pk} {how}; what it committed stays.")


def submit_job(*, kind: str, parameters: dict[str, Any], requested_by: Any | None) -> LedgerJob:
    """Record a job and run it inline (no broker: returns it finished) or enqueue it (pending)."""
    prepared = prepare_job(kind=kind, parameters=parameters, requested_by=requested_by)
    job = _create(prepared, requested_by)
    if _has_broker():
        transaction.on_commit(lambda: send_job(job.pk, user_id=prepared.user_id))
        return job
    return run_job(job_id=job.pk, user_id=prepared.user_id)


def _has_broker() -> bool:
    return bool(getattr(settings, "CELERY_BROKER_URL", None))


def send_job(job_id: int, *, user_id: int | None = None) -> None:
    """Put a task message for the job on the broker (the user id travels only in it)."""
    from ledger.tasks import run_ledger_job

    kwargs = {"user_id": user_id} if user_id is not None else {}
    run_ledger_job.delay(job_id, **kwargs)


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
    if "report" not in holder:
        raise JobStoppedError(job)
    return job, holder["report"]


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
        return PreparedJob(kind, stored, user_id=user.pk, subject_digest=user_digest(user.pk))
    if kind == Kind.ARCHIVE:
        return PreparedJob(kind, {"before": parse_before(parameters.get("before")).isoformat()})
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
        kind=prepared.kind,
        parameters=prepared.parameters,
        requested_by=requested_by,
        subject_digest=prepared.subject_digest,
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
    """Take the job and run it to its end (attempt after attempt while they fail); return it.

    A job that is finished, cancelled or held by a live worker is returned as it stands: a
    redelivered task message runs nothing twice. With ``export_to`` or ``report_to`` (commands),
    the last attempt's error is raised in the caller once the job has failed.
    """
    while True:
        lease = leases.claim(job_id=job_id)
        if lease is None:
            return LedgerJob.objects.get(pk=job_id)
        again = _attempt(
            lease, user_id=user_id, progress=progress, export_to=export_to, report_to=report_to
        )
        if not again:
            return LedgerJob.objects.get(pk=job_id)
        if not connection.in_atomic_block:
            close_old_connections()  # the failure may have broken the connection


def _attempt(
    lease: leases.Lease,
    *,
    user_id: int | None,
    progress: ProgressCallback | None,
    export_to: TextIO | None,
    report_to: dict[str, Any] | None,
) -> bool:
    """Run one attempt and record how it ended, as the lease holder; True to try again."""
    job = lease.job
    with leases.Heartbeat(lease) as heartbeat:
        track = _tracker(heartbeat, progress)
        try:
            result, report = _RUNNERS[job.kind](job, user_id, track, export_to)
        except OperationStopped as stop:
            if stop.reason == "cancelled":
                _end(lease, Status.CANCELLED, outcome="cancelled")
            else:
                logger.warning("ledger job %s: lease lost (taken or ended elsewhere)", job.pk)
            return False
        except Exception as error:
            logger.exception("ledger job %s (%s) attempt %d failed", job.pk, job.kind, job.attempts)
            message = f"{type(error).__name__}: {error}"
            errors = [
                *job.attempt_errors,
                leases.attempt_error(attempt=job.attempts, worker=lease.owner, error=message),
            ]
            again = not isinstance(error, LedgerError) and job.attempts < leases.max_attempts()
            if again:
                _end(lease, Status.PENDING, outcome="failed", attempt_errors=errors)
                return True
            _end(lease, Status.FAILED, outcome="failed", attempt_errors=errors, error=message)
            if export_to is not None or report_to is not None:
                raise
            return False
    if _end(lease, Status.SUCCEEDED, outcome="succeeded", result=result) and report_to is not None:
        report_to["report"] = report
    return False


def _end(lease: leases.Lease, status: str, *, outcome: str, **values: Any) -> bool:
    """End the attempt as its lease holder (a worker that lost the lease writes nothing): the
    job ends with ``status``, or goes back in line (PENDING) for another attempt."""
    if status == Status.PENDING:
        values["queued_at"] = Now()
    else:
        values["finished_at"] = Now()
    if status == Status.SUCCEEDED:
        values["progress_done"] = lease.job.progress_done
        values["progress_total"] = lease.job.progress_total
    written = lease.held().update(status=status, lease_owner="", lease_expires_at=None, **values)
    if not written:
        logger.warning("ledger job %s: lease lost before its end was written", lease.job.pk)
        return False
    metrics.job_attempt_ended(kind=lease.job.kind, outcome=outcome)
    if status != Status.PENDING:
        metrics.job_status_changed(kind=lease.job.kind, status=status)
    return True


def _tracker(heartbeat: leases.Heartbeat, progress: ProgressCallback | None) -> ProgressCallback:
    """Progress to the caller, then a checkpoint: the job row's progress and lease, and a stop
    if the job was cancelled or the lease lost."""

    def track(done: int, total: int | None) -> None:
        if progress is not None:
            progress(done, total)
        heartbeat.lease.job.progress_done, heartbeat.lease.job.progress_total = done, total
        heartbeat.checkpoint(done=done, total=total)

    return track


def cancel_job(*, job_id: int, cancelled_by: Any | None) -> LedgerJob:
    """Cancel a job: a pending one at once; a running one at its next checkpoint (at once if
    its worker is gone). Cancelling a cancelled job changes nothing; a finished one is refused
    with ``InvalidJobError``. Raises ``LedgerJob.DoesNotExist`` for an unknown id."""
    job = LedgerJob.objects.get(pk=job_id)
    jobs = LedgerJob.objects.filter(pk=job_id)
    asked = {"cancel_requested_at": Now(), "cancelled_by": cancelled_by}
    ended = {"status": Status.CANCELLED, "finished_at": Now()}
    if jobs.filter(status=Status.PENDING).update(**asked, **ended):
        metrics.job_status_changed(kind=job.kind, status=Status.CANCELLED)
    elif jobs.filter(status=Status.RUNNING, cancel_requested_at__isnull=True).update(**asked):
        logger.info("ledger job %s: cancel requested", job_id)
    gone = jobs.filter(status=Status.RUNNING, lease_expires_at__lt=Now())
    if gone.update(**ended, lease_owner="", lease_expires_at=None):  # its worker died
        metrics.job_attempt_ended(kind=job.kind, outcome="expired")
        metrics.job_status_changed(kind=job.kind, status=Status.CANCELLED)
    job.refresh_from_db()
    if job.status in (Status.SUCCEEDED, Status.FAILED):
        raise InvalidJobError(f"Job {job.pk} has already finished ({job.status}).")
    return job


def requeue_stale_jobs() -> list[int]:
    """What each worker does every quarter lease (config/celery.py): send again the jobs whose
    worker died; ``resume_ledger_jobs`` without a broker: run them here, one after another."""
    return leases.requeue_stale_jobs(send=send_job if _has_broker() else _run_here)


def _run_here(job_id: int) -> None:
    run_job(job_id=job_id)


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
        track(count, count)  # a worker that lost the job stops here and publishes nothing
        partial.replace(directory / name)  # readers never see a half-written document
    finally:
        partial.unlink(missing_ok=True)
    return {"file": name, "events": count}, count


def _run_anonymize(
    job: LedgerJob, user_id: int | None, track: ProgressCallback, __: TextIO | None
) -> tuple[dict[str, Any], Any]:
    user = _user(_subject_id(job, user_id))
    with transaction.atomic():
        subject = anonymize_user(user=user, public_id=uuid.UUID(job.parameters["erased_subject"]))
        if str(subject.public_id) != job.parameters["erased_subject"]:
            raise InvalidJobError("The erased subject changed while the job was queued.")
        _forget_in_jobs(user_id=user.pk, subject=subject, keep=job.pk)
    count = subject.activities.count()
    track(count, count)
    return {"erased_subject": str(subject.public_id), "events": count}, subject


def _subject_id(job: LedgerJob, user_id: int | None) -> int:
    """The user an anonymization erases: from the task message, or, for a job taken again
    without it, the one user whose keyed digest the job holds (one pass over the user ids)."""
    if user_id is not None:
        if job.subject_digest and user_digest(user_id) != job.subject_digest:
            raise InvalidJobError("The user id given is not this job's subject.")
        return user_id
    if not job.subject_digest:
        raise InvalidJobError("An anonymization job needs its subject's user id from the caller.")
    ids = get_user_model()._default_manager.values_list("pk", flat=True)
    for pk in ids.order_by("pk").iterator(chunk_size=10_000):
        if user_digest(pk) == job.subject_digest:
            return int(pk)
    raise InvalidJobError("No user is this job's subject any more (deleted since it was asked?).")


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


def _run_archive(
    job: LedgerJob, _: int | None, track: ProgressCallback, __: TextIO | None
) -> tuple[dict[str, Any], Any]:
    report = archive_activity(before=parse_before(job.parameters["before"]), progress=track)
    return report.as_dict(), report


_RUNNERS: dict[str, Runner] = {
    Kind.BACKFILL: _run_backfill,
    Kind.RECONCILE: _run_reconcile,
    Kind.EXPORT: _run_export,
    Kind.ANONYMIZE: _run_anonymize,
    Kind.ARCHIVE: _run_archive,
}
