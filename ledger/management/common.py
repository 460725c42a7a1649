"""What the ledger's commands share: a user by name, and a job run here with a progress line."""

from __future__ import annotations

from typing import Any, TextIO

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.management.base import CommandError

from ledger.exceptions import LedgerError
from ledger.models import LedgerJob
from ledger.operations.jobs import run_job_now
from ledger.operations.progress import console_progress


def user_named(username: str) -> AbstractBaseUser:
    """The user whose ``USERNAME_FIELD`` is ``username``; a CommandError if there is none."""
    user_model = get_user_model()
    user = user_model._default_manager.filter(**{user_model.USERNAME_FIELD: username}).first()
    if user is None:
        raise CommandError(f"Unknown username {username!r}.")
    return user


def run_with_progress(
    *, kind: str, parameters: dict[str, Any], stream: TextIO
) -> tuple[LedgerJob, Any]:
    """Run a job in this process, its progress written to ``stream``; a ledger error (an
    unknown source, an invalid job) becomes a CommandError."""
    try:
        with console_progress(description=kind, stream=stream) as progress:
            return run_job_now(kind=kind, parameters=parameters, progress=progress)
    except LedgerError as error:
        raise CommandError(str(error)) from error
