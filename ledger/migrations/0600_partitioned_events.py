"""PostgreSQL: the event table becomes partitioned by month of ``timestamp`` (decision 0014).

The populated table is copied into a new partitioned one, which then takes its name, indexes,
foreign keys and trigger. Writers wait from the start (the old table is locked SHARE), readers
until the swap; docs/operations.md says how long per million rows. SQLite is left as it is: the
model state does not change, only PostgreSQL's tables do.

What changes with the partition key (decision 0014): the primary key is (id, timestamp); the
once-key ``ledger_activity_once`` includes ``timestamp``; ``reverses`` keeps its column and an
index but no foreign key or unique constraint (reconcile checks them).
"""

from django.db import migrations

TABLE = "ledger_useractivity"
COPY = "ledger_useractivity_partitioned"
SEQUENCE = "ledger_useractivity_id_seq"
MONTHS_AHEAD = 3
"""Months made ahead of the current one, here and by the scheduled job (``make_event_months``)."""

MAKE_MONTHS = """
CREATE OR REPLACE FUNCTION ledger_make_event_months(months date[], parent text DEFAULT 'ledger_useractivity')
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    month date;
    partition text;
    made integer := 0;
BEGIN
    FOR month IN
        SELECT DISTINCT date_trunc('month', m::timestamp)::date FROM unnest(months) AS m ORDER BY 1
    LOOP
        partition := 'ledger_useractivity_' || to_char(month, 'YYYY_MM');
        CONTINUE WHEN EXISTS (
            SELECT FROM pg_inherits
            WHERE inhparent = parent::regclass AND inhrelid = to_regclass(partition)
        );
        -- One maker at a time (ATTACH takes this lock anyway); look again under it, since
        -- another writer may have made the month meanwhile.
        EXECUTE format('LOCK TABLE ONLY %I IN SHARE UPDATE EXCLUSIVE MODE', parent);
        CONTINUE WHEN EXISTS (
            SELECT FROM pg_inherits
            WHERE inhparent = parent::regclass AND inhrelid = to_regclass(partition)
        );
        IF to_regclass(partition) IS NOT NULL THEN
            RAISE EXCEPTION 'table % exists but is no partition of %: a detached month?',
                partition, parent USING ERRCODE = 'object_in_use';
        END IF;
        -- CREATE + ATTACH, not CREATE ... PARTITION OF: attaching takes SHARE UPDATE EXCLUSIVE
        -- on the parent, which blocks neither readers nor writers; PARTITION OF takes
        -- ACCESS EXCLUSIVE until the writing transaction ends.
        EXECUTE format(
            'CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', partition, parent
        );
        EXECUTE format(
            'ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
            parent, partition,
            month::timestamp AT TIME ZONE 'UTC',
            (month + interval '1 month')::timestamp AT TIME ZONE 'UTC'
        );
        made := made + 1;
    END LOOP;
    RETURN made;
END
$$;
"""

TRIGGER = f"""
CREATE TRIGGER ledger_useractivity_append_only
    BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_event_change();
"""

REVERSED_ONCE = f"""
CREATE OR REPLACE FUNCTION ledger_reverse_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Reversals of one event wait for each other; this statement's snapshot is taken after
    -- the wait, so it sees a reversal committed meanwhile.
    PERFORM pg_advisory_xact_lock(
        hashtext('ledger_useractivity.reverses'), (NEW.reverses_id % 2147483647)::integer
    );
    IF NOT EXISTS (SELECT FROM {TABLE} WHERE id = NEW.reverses_id AND reverses_id IS NULL) THEN
        RAISE EXCEPTION 'a reversal must point at a recorded event: % is none', NEW.reverses_id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    IF EXISTS (SELECT FROM {TABLE} WHERE reverses_id = NEW.reverses_id) THEN
        RETURN NULL;  -- reversed already: skipped, as ON CONFLICT DO NOTHING skips
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER ledger_useractivity_reverse_once
    BEFORE INSERT ON {TABLE}
    FOR EACH ROW WHEN (NEW.reverses_id IS NOT NULL) EXECUTE FUNCTION ledger_reverse_once();
"""
"""What the unique foreign key ``reverses`` kept across the whole table, which a partitioned
table cannot (its unique keys hold within a partition, and a reversal's time is when the ledger
learned of it, not a function of its target): a reversal points at an event, and at most one
reversal at each event."""


def _runner(schema_editor):  # type: ignore[no-untyped-def]
    """``execute`` without parameters: the SQL's own ``%`` (format()'s ``%I``) stay as they are."""
    return lambda sql: schema_editor.execute(sql, params=None)


def _query(schema_editor, sql: str, params=()):  # type: ignore[no-untyped-def]
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def partition_events(apps, schema_editor):  # type: ignore[no-untyped-def]
    """Copy the events into a partitioned table and give it the old one's place."""
    if schema_editor.connection.vendor != "postgresql":
        return
    run = _runner(schema_editor)
    # Writers wait from here; readers go on reading the old table until it is dropped.
    run(f"LOCK TABLE {TABLE} IN SHARE MODE")
    indexes = _query(
        schema_editor,
        "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
        "JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = %s::regclass "
        "AND NOT x.indisprimary AND NOT x.indisunique",
        [TABLE],
    )
    foreign_keys = _query(
        schema_editor,
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype = 'f' AND confrelid <> conrelid",
        [TABLE],
    )
    run(f"CREATE SEQUENCE {SEQUENCE}_p")
    run(f"SELECT setval('{SEQUENCE}_p', COALESCE((SELECT max(id) FROM {TABLE}), 0) + 1, false)")
    run(
        f"CREATE TABLE {COPY} (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING CONSTRAINTS) "
        'PARTITION BY RANGE ("timestamp")'
    )
    run(MAKE_MONTHS)
    months = [
        row[0]
        for row in _query(
            schema_editor,
            f"SELECT DISTINCT date_trunc('month', \"timestamp\" AT TIME ZONE 'UTC')::date FROM {TABLE} "
            "UNION SELECT (date_trunc('month', now() AT TIME ZONE 'UTC') "
            "+ make_interval(months => ahead))::date FROM generate_series(0, %s) AS ahead",
            [MONTHS_AHEAD],
        )
    ]
    _query(schema_editor, "SELECT ledger_make_event_months(%s::date[], %s)", [months, COPY])
    run(f"INSERT INTO {COPY} SELECT * FROM {TABLE}")
    run(f"DROP TABLE {TABLE}")  # its identity sequence and self-reference go with it
    run(f"ALTER TABLE {COPY} RENAME TO {TABLE}")
    run(f"ALTER SEQUENCE {SEQUENCE}_p RENAME TO {SEQUENCE}")
    run(f"ALTER SEQUENCE {SEQUENCE} OWNED BY {TABLE}.id")
    run(f"ALTER TABLE {TABLE} ALTER COLUMN id SET DEFAULT nextval('{SEQUENCE}')")
    run(f'ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY (id, "timestamp")')
    for _name, definition in indexes:
        run(definition)  # the feed, type, source and foreign-key indexes, as they were
    run(
        "CREATE UNIQUE INDEX ledger_activity_once ON "
        f'{TABLE} (source_model, source_id, event_type, user_id, occurrence, "timestamp") '
        "WHERE reverses_id IS NULL"
    )
    run(f"CREATE INDEX ledger_activity_reverses ON {TABLE} (reverses_id)")
    for name, definition in foreign_keys:  # to users and erased subjects
        run(f"ALTER TABLE {TABLE} ADD CONSTRAINT {name} {definition}")
    run(TRIGGER)
    run(REVERSED_ONCE)
    run(f"ANALYZE {TABLE}")


def unpartition_events(apps, schema_editor):  # type: ignore[no-untyped-def]
    """Back to the one table the migrations before this one made, with every event."""
    if schema_editor.connection.vendor != "postgresql":
        return
    run = _runner(schema_editor)
    run(f"LOCK TABLE {TABLE} IN SHARE MODE")
    run(f"ALTER TABLE {TABLE} RENAME TO {COPY}")
    run(f"ALTER TABLE {COPY} RENAME CONSTRAINT {TABLE}_pkey TO {COPY}_pkey")
    run(f"ALTER SEQUENCE {SEQUENCE} RENAME TO {SEQUENCE}_p")
    for (name,) in _query(
        schema_editor,
        "SELECT i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
        "WHERE x.indrelid = %s::regclass AND NOT x.indisprimary",
        [COPY],
    ):
        run(f"DROP INDEX {name}")  # their names are the new table's (created at the end)
    model = apps.get_model("ledger", "UserActivity")
    schema_editor.create_model(model)  # the table as 0001 made it; its indexes are deferred
    columns = ", ".join(f'"{field.column}"' for field in model._meta.concrete_fields)
    run(f"INSERT INTO {TABLE} ({columns}) SELECT {columns} FROM {COPY} ORDER BY id")
    run(
        f"SELECT setval(pg_get_serial_sequence('{TABLE}', 'id'), "
        f"COALESCE((SELECT max(id) FROM {TABLE}), 0) + 1, false)"
    )
    run(f"DROP TABLE {COPY}")
    run("DROP FUNCTION ledger_make_event_months(date[], text)")
    run("DROP FUNCTION ledger_reverse_once()")
    run(TRIGGER)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0500_feed_index_without_economy")]

    operations = [
        migrations.RunPython(partition_events, unpartition_events, elidable=False),
    ]
