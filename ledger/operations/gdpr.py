"""GDPR: export a user's whole history (Article 15) and anonymize it (Article 17).

Export streams one JSON document, event by event from a server-side iterator, so a long history
never sits in memory. Anonymization is the one audited way through the immutability guard (I4):
it re-points the user's events to an ``ErasedSubject``, scrubs their name from every event that
mentions them, deletes their rows of every projection and rewrites the shared rows they counted
in (rarity), and rewrites the archive files likewise (I9), all in one transaction. Convergence
skips erased
digests, so no later backfill, reconcile or re-save records anything for them again; a save
running at the same moment is ordered against the erasure by a lock on the user's row
(``Recorder.hold_users``), so it cannot slip its events in after the re-pointing.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Iterator
from typing import Any, TextIO

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q, QuerySet, Subquery
from django.utils import timezone

from ledger.archive import files
from ledger.archive.baselines import forget_user
from ledger.archive.storage import archive_storage
from ledger.fold import Key
from ledger.models import (
    ArchivedEvent,
    ArchivedFile,
    ErasedSubject,
    UserActivity,
    UserProfileStats,
)
from ledger.models.activity import unguarded_event_writes
from ledger.models.erasure import user_digest
from ledger.personal_data import all_personal_data
from ledger.projections import LIFETIME_STATS, PROJECTIONS, CounterProjection
from ledger.recorders import recorder

EXPORT_CHUNK = 2000
ERASED = "[erased]"
"""What stands in metadata where an erased user's name or address was."""

_EVENT_FIELDS = (
    "id",
    "event_type",
    "timestamp",
    "created_at",
    "source_model",
    "source_id",
    "occurrence",
    "amount",
    "reverses_id",
    "metadata",
)


def _dumps(value: Any) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, sort_keys=True)


def export_user_activity(
    *, user: AbstractBaseUser, out: TextIO, chunk_size: int = EXPORT_CHUNK
) -> int:
    """Write ``{"user", "stats", "projections", <each app's personal data>, "events"}`` for
    ``user`` to ``out``; return how many events. ``projections`` holds the user's rows of every
    other projection, by its name.

    Every event is included, reversals too, oldest first: the archived ones (from files whose
    checksums match, or ``ArchiveCorruptedError`` before anything is written), then the hot
    ones, read with ``iterator(chunk_size)``.
    """
    stats = UserProfileStats.objects.filter(user_id=user.pk).values(*LIFETIME_STATS.fields).first()
    about = {
        "id": user.pk,
        "username": user.get_username(),
        "email": getattr(user, "email", ""),
        "date_joined": getattr(user, "date_joined", None),
    }
    projections = {
        projection.name: list(
            projection.model._default_manager.filter(**{projection.owner: user.pk})
            .order_by(*projection.key)
            .values(*projection.key, *projection.fields)
        )
        for projection in PROJECTIONS
        if projection is not LIFETIME_STATS and projection.owner is not None
    }
    apps_data = "".join(
        f", {_dumps(data.name)}: {_dumps(data.export(user_id=user.pk))}"
        for data in all_personal_data()
    )
    archived = _archived_events(user.pk)  # read (and verified) before anything is written
    head = f'{{"user": {_dumps(about)}, "stats": {_dumps(stats)}, '
    out.write(head + f'"projections": {_dumps(projections)}{apps_data}, "events": [')
    hot = (
        UserActivity.objects.filter(user_id=user.pk)
        .order_by("timestamp", "id")
        .values(*_EVENT_FIELDS)
        .iterator(chunk_size=chunk_size)
    )
    count = 0
    for event in itertools.chain(archived, hot):
        out.write((", " if count else "") + _dumps(event))
        count += 1
    out.write("]}\n")
    return count


def anonymize_user(*, user: AbstractBaseUser, public_id: uuid.UUID | None = None) -> ErasedSubject:
    """Erase ``user`` from the ledger; idempotent. ``public_id`` names a new erased subject.

    It keeps no record of who the subject was (the job that asked keeps who asked)."""
    digest = user_digest(user.pk)
    with transaction.atomic():
        # First: waits for saves that hold the user (Recorder.hold_users) to commit, so their
        # events are re-pointed below; saves that come later wait, then find the user erased.
        _lock_user(user.pk)
        subject = ErasedSubject.objects.filter(user_digest=digest).first()
        if subject is None:
            subject = ErasedSubject.objects.create(
                user_digest=digest, public_id=public_id or uuid.uuid4()
            )
        shared = _global_keys(user.pk)  # read while the events are still the user's
        with recorder().erasure_allowed(), unguarded_event_writes():
            candidates = _candidate_events(user_id=user.pk, subject=subject)
            names = _personal_strings(user, candidates) | _archived_names(user.pk)
            rewrites: dict[int, Any] = {}
            for pk, metadata in candidates.values_list("id", "metadata").iterator(EXPORT_CHUNK):
                scrubbed, changed = _scrub(metadata, user_id=user.pk, names=names, subject=subject)
                if changed:
                    rewrites[pk] = scrubbed
            for pk, metadata in rewrites.items():
                UserActivity.objects.filter(pk=pk).update(metadata=metadata)
            UserActivity.objects.filter(user_id=user.pk).update(user=None, erased_subject=subject)
        forget_user(user.pk)  # their baselines first: the shared rows are recomputed without them
        _erase_projection_rows(user.pk, shared)
        for data in all_personal_data():
            data.erase(user_id=user.pk)
        _erase_from_archive(user_id=user.pk, names=names, subject=subject)
    return subject


def _global_keys(user_id: int) -> dict[CounterProjection, list[Key]]:
    """The rows of each projection of no one user that the user's events count in."""
    return {
        projection: sorted(projection.recompute([user_id]))
        for projection in PROJECTIONS
        if projection.owner is None
    }


def _erase_projection_rows(user_id: int, shared: dict[CounterProjection, list[Key]]) -> None:
    """Delete every projection row that names the user; rewrite the shared rows they counted in
    from a recompute without them (their events now belong to no user), in key order."""
    for projection in PROJECTIONS:
        manager = projection.model._default_manager
        if projection in shared:
            keys = shared[projection]
            if not keys:
                continue
            fresh = projection.recompute(None)
            for key in keys:
                where = dict(zip(projection.key, key, strict=True))
                row = manager.select_for_update().filter(**where)
                if key in fresh:
                    row.update(**fresh[key])
                else:
                    row.delete()
            continue
        named = Q()
        for column in projection.mentions:
            named |= Q(**{column: user_id})
        manager.filter(named).delete()


def _archived_events(user_id: int) -> list[dict[str, Any]]:
    """The user's archived events as export rows, oldest first, from the files of the months
    that hold any (``ArchivedEvent`` tells which)."""
    wanted = files.months_of(ArchivedEvent.objects.filter(user_id=user_id))
    if not wanted:
        return []
    storage = archive_storage()
    rows = [
        {name: row[name] for name in _EVENT_FIELDS}
        for archived in ArchivedFile.objects.filter(month__in=wanted).order_by("month", "part")
        for row in files.read_rows(storage, archived)
        if row["user_id"] == user_id
    ]
    rows.sort(key=lambda row: (row["timestamp"], row["id"]))
    return rows


def _archived_names(user_id: int) -> set[str]:
    """Every name the archived metadata gave the user, read from every file (each verified
    first: a corrupted file stops the erasure before anything changed). Locks the file list."""
    names: set[str] = set()
    storage = archive_storage()
    for archived in ArchivedFile.objects.select_for_update().order_by("month", "part"):
        for row in files.read_rows(storage, archived):
            for person in _people(row["metadata"], user_id):
                for key in ("username", "display_name", "email"):
                    if isinstance(person.get(key), str) and person[key].strip():
                        names.add(person[key])
    return names


def _erase_from_archive(*, user_id: int, names: set[str], subject: ErasedSubject) -> None:
    """Rewrite every archive file that holds the user or a name of theirs, as the hot rows are
    rewritten (new revisions, new checksums); re-point their once-keys.

    Every file was verified already (``_archived_names``). The replaced files are deleted once
    the erasure has committed; a new file of an erasure that rolled back is unlisted, and
    overwritten by the next one."""
    ArchivedEvent.objects.filter(user_id=user_id).update(user_id=None, erased_subject=subject)
    listed = list(ArchivedFile.objects.select_for_update().order_by("month", "part"))
    storage = archive_storage()
    replaced: list[str] = []
    for archived in listed:
        changed = False

        def scrubbed(archived: ArchivedFile = archived) -> Iterator[dict[str, Any]]:
            nonlocal changed
            for row in files.read_rows(storage, archived):
                metadata, touched = _scrub(
                    row["metadata"], user_id=user_id, names=names, subject=subject
                )
                if row["user_id"] == user_id:
                    row["user_id"], row["erased_subject_id"] = None, subject.pk
                    touched = True
                changed = changed or touched
                row["metadata"] = metadata
                yield row

        name = files.file_name(archived.month, archived.part, archived.revision + 1)
        rows, sha256 = files.write_rows(storage, name, scrubbed())
        if not changed:
            storage.delete(name)
            continue
        replaced.append(archived.name)
        archived.name, archived.sha256, archived.rows = name, sha256, rows
        archived.revision += 1
        archived.rewritten_at = timezone.now()
        archived.save(update_fields=["name", "sha256", "rows", "revision", "rewritten_at"])

    def publish() -> None:
        for old in replaced:
            storage.delete(old)
        files.write_manifest(storage)

    if replaced:
        transaction.on_commit(publish)


def _lock_user(user_id: int) -> None:
    """FOR UPDATE: conflicts with the KEY SHARE lock recording holds (decision 0006)."""
    list(get_user_model().objects.select_for_update().filter(pk=user_id).values_list("pk"))


def _candidate_events(*, user_id: int, subject: ErasedSubject) -> QuerySet[UserActivity]:
    """Events that may name the user: theirs, and every event of the same source rows.

    One semi-join per source model (a handful), so a long history is never pulled into Python.
    """
    own = UserActivity.objects.filter(Q(user_id=user_id) | Q(erased_subject=subject)).order_by()
    where = Q(user_id=user_id)
    for source_model in own.values_list("source_model", flat=True).distinct():
        rows_of_model = own.filter(source_model=source_model).values("source_id")
        where |= Q(source_model=source_model, source_id__in=Subquery(rows_of_model))
    return UserActivity.objects.filter(where).order_by("id")


def _personal_strings(user: AbstractBaseUser, candidates: QuerySet[UserActivity]) -> set[str]:
    """The user's username and email, and every name metadata gave them (display names change)."""
    names = {user.get_username(), getattr(user, "email", "") or ""}
    full_name = user.get_full_name() if hasattr(user, "get_full_name") else ""
    names.add(full_name)
    for metadata in candidates.values_list("metadata", flat=True).iterator(EXPORT_CHUNK):
        for person in _people(metadata, user.pk):
            for key in ("username", "display_name", "email"):
                if isinstance(person.get(key), str):
                    names.add(person[key])
    return {name for name in names if name.strip()}


def _people(value: Any, user_id: int) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        if value.get("user_id") == user_id:
            yield value
        for item in value.values():
            yield from _people(item, user_id)
    elif isinstance(value, list):
        for item in value:
            yield from _people(item, user_id)


def _scrub(
    value: Any, *, user_id: int, names: set[str], subject: ErasedSubject
) -> tuple[Any, bool]:
    """``value`` with the user's person dicts and names replaced; whether anything changed."""
    if isinstance(value, dict):
        changed = False
        result: dict[str, Any] = {}
        is_person = value.get("user_id") == user_id
        for key, item in value.items():
            if is_person and key in ("user_id", "username", "display_name", "email"):
                result[key] = None if key == "user_id" else ERASED
                changed = True
                continue
            result[key], item_changed = _scrub(item, user_id=user_id, names=names, subject=subject)
            changed = changed or item_changed
        if is_person:
            result["erased_subject"] = str(subject.public_id)
        return result, changed
    if isinstance(value, list):
        items = [_scrub(item, user_id=user_id, names=names, subject=subject) for item in value]
        return [item for item, _ in items], any(changed for _, changed in items)
    if isinstance(value, str) and value in names:
        return ERASED, True
    return value, False
