"""The archive's tables (docs/decisions/0017), and on PostgreSQL the immutability trigger lets the
audited archive path delete the rows it has moved to a file (``ledger.archive`` on, set by
``PostgreSQLRecorder.remove_archived``), as it lets the erasure re-point them."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

from ._append_only import on_postgresql, refuse_event_change


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0001_initial_squashed_0005_job_leases'),
    ]

    operations = [
        migrations.AlterField(
            model_name='ledgerjob',
            name='kind',
            field=models.CharField(choices=[('backfill', 'Backfill'), ('reconcile', 'Reconcile'), ('export', 'GDPR export'), ('anonymize', 'GDPR anonymization'), ('archive', 'Archive')], max_length=16),
        ),
        migrations.CreateModel(
            name='ArchivedFile',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('month', models.DateField(help_text='The first day of the month (UTC) the events fall in.')),
                ('part', models.PositiveIntegerField(default=1)),
                ('revision', models.PositiveIntegerField(default=1, help_text='Each rewrite (an erasure) writes a new file under a new name.')),
                ('name', models.CharField(help_text="The file's name in storage.", max_length=200, unique=True)),
                ('rows', models.BigIntegerField()),
                ('sha256', models.CharField(max_length=64)),
                ('archived_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('rewritten_at', models.DateTimeField(blank=True, help_text='When an erasure last rewrote it.', null=True)),
            ],
            options={
                'ordering': ['month', 'part'],
                'default_permissions': ('view',),
                'constraints': [models.UniqueConstraint(fields=('month', 'part'), name='ledger_archive_month_part')],
            },
        ),
        migrations.CreateModel(
            name='ProjectionBaseline',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('projection', models.CharField(help_text="The projection's model label (e.g. ledger.userprofilestats).", max_length=100)),
                ('key', models.CharField(help_text="The row's key values, as a JSON list.", max_length=200)),
                ('user_id', models.BigIntegerField(help_text='The user the row belongs to (its first key).')),
                ('counters', models.JSONField(default=dict)),
                ('latest', models.DateTimeField(blank=True, null=True)),
            ],
            options={
                'default_permissions': ('view',),
                'indexes': [models.Index(fields=['projection', 'user_id'], name='ledger_baseline_user')],
                'constraints': [models.UniqueConstraint(fields=('projection', 'key'), name='ledger_baseline_key')],
            },
        ),
        migrations.CreateModel(
            name='ArchivedEvent',
            fields=[
                ('id', models.BigIntegerField(help_text="The event's id in the hot table.", primary_key=True, serialize=False)),
                ('user_id', models.BigIntegerField(blank=True, null=True)),
                ('event_type', models.CharField(max_length=32)),
                ('timestamp', models.DateTimeField()),
                ('source_model', models.CharField(max_length=64)),
                ('source_id', models.BigIntegerField()),
                ('occurrence', models.PositiveIntegerField(default=0)),
                ('amount', models.BigIntegerField(default=0)),
                ('reverses_id', models.BigIntegerField(blank=True, null=True)),
                ('erased_subject', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='ledger.erasedsubject')),
            ],
            options={
                'default_permissions': ('view',),
                'indexes': [models.Index(fields=['source_model', 'source_id'], name='ledger_archived_source'), models.Index(fields=['user_id'], name='ledger_archived_user')],
                'constraints': [models.UniqueConstraint(condition=models.Q(('reverses_id__isnull', True)), fields=('source_model', 'source_id', 'event_type', 'user_id', 'occurrence'), name='ledger_archived_once')],
            },
        ),
        migrations.RunPython(
            on_postgresql(refuse_event_change(archive=True)),
            on_postgresql(refuse_event_change(archive=False)),
            elidable=False,
        ),
    ]
