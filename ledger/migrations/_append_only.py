"""The event table's append-only trigger function (I4), in the versions migrations installed.

The squashed first migration installs it without the archive's branch, ``0200_archive`` with it
(and without it again when reversed). A migration must keep running the SQL it ran: a new
version is a new argument or function here, never an edit of this text. Django's migration
loader skips this module (its name starts with ``_``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_ARCHIVE_DELETES = """
    IF TG_OP = 'DELETE' AND current_setting('ledger.archive', true) = 'on' THEN
        RETURN OLD;
    END IF;"""


def refuse_event_change(*, archive: bool) -> str:
    """``CREATE OR REPLACE FUNCTION ledger_refuse_event_change()``: only the audited erasure
    (``ledger.erasure`` on) may re-point an event to an erased subject and rewrite its metadata;
    with ``archive``, the audited archive path (``ledger.archive`` on) may also delete."""
    return (
        """
CREATE OR REPLACE FUNCTION ledger_refuse_event_change() RETURNS trigger AS $$
BEGIN"""
        + (_ARCHIVE_DELETES if archive else "")
        + """
    IF TG_OP = 'UPDATE'
       AND current_setting('ledger.erasure', true) = 'on'
       AND NEW.id = OLD.id
       AND NEW.event_type = OLD.event_type
       AND NEW."timestamp" = OLD."timestamp"
       AND NEW.created_at = OLD.created_at
       AND NEW.source_model = OLD.source_model
       AND NEW.source_id = OLD.source_id
       AND NEW.occurrence = OLD.occurrence
       AND NEW.amount = OLD.amount
       AND NEW.reverses_id IS NOT DISTINCT FROM OLD.reverses_id
       AND (
            (NEW.user_id IS NOT DISTINCT FROM OLD.user_id
             AND NEW.erased_subject_id IS NOT DISTINCT FROM OLD.erased_subject_id)
         OR (OLD.user_id IS NOT NULL AND NEW.user_id IS NULL
             AND NEW.erased_subject_id IS NOT NULL)
       )
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'ledger_useractivity is append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation',
              HINT = 'Record events through the ledger; erase users with anonymize_user.';
END;
$$ LANGUAGE plpgsql;
"""
    )


def on_postgresql(sql: str) -> Callable[[Any, Any], None]:
    """A ``RunPython`` step that runs ``sql`` on PostgreSQL and does nothing elsewhere."""

    def run(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run
