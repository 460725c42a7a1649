"""PostgreSQL refuses UPDATE and DELETE on the event table (I4).

The one way through is the audited erasure path, which sets ``ledger.erasure`` for its own
transaction and may then only re-point events to an erased subject and rewrite metadata.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION ledger_refuse_event_change() RETURNS trigger AS $$
BEGIN
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

DROP TRIGGER IF EXISTS ledger_useractivity_append_only ON ledger_useractivity;
CREATE TRIGGER ledger_useractivity_append_only
    BEFORE UPDATE OR DELETE ON ledger_useractivity
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_event_change();
"""

DROP = """
DROP TRIGGER IF EXISTS ledger_useractivity_append_only ON ledger_useractivity;
DROP FUNCTION IF EXISTS ledger_refuse_event_change();
"""


def _on_postgresql(sql: str):  # type: ignore[no-untyped-def]
    def run(apps, schema_editor):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [
        migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP), elidable=False),
    ]
