"""The first round's migrations 0001-0005 in one (docs/decisions/0028): the event, stats and
erased-subject tables, PostgreSQL's immutability trigger on the events (I4), jobs with their
leases, and backfill checkpoints.

``replaces`` keeps a database that applied the five recognised as having applied this one; the
five files are gone, so an installation must be at 0005 before it takes this release.
"""

import uuid

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from ._append_only import on_postgresql, refuse_event_change

CREATE = (
    refuse_event_change(archive=False)
    + """
DROP TRIGGER IF EXISTS ledger_useractivity_append_only ON ledger_useractivity;
CREATE TRIGGER ledger_useractivity_append_only
    BEFORE UPDATE OR DELETE ON ledger_useractivity
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_event_change();
"""
)

DROP = """
DROP TRIGGER IF EXISTS ledger_useractivity_append_only ON ledger_useractivity;
DROP FUNCTION IF EXISTS ledger_refuse_event_change();
"""


class Migration(migrations.Migration):

    replaces = [
        ('ledger', '0001_initial'),
        ('ledger', '0002_immutable_events_trigger'),
        ('ledger', '0003_jobs'),
        ('ledger', '0004_backfill_checkpoints'),
        ('ledger', '0005_job_leases'),
    ]

    initial = True

    dependencies = [
        ('auth', '0012_alter_user_first_name_max_length'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ErasedSubject',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('public_id', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                ('user_digest', models.CharField(editable=False, max_length=64, unique=True)),
                ('erased_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
            ],
            options={
                'default_permissions': ('view',),
            },
        ),
        migrations.CreateModel(
            name='UserProfileStats',
            fields=[
                ('user', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='activity_stats', serialize=False, to=settings.AUTH_USER_MODEL)),
                ('tournaments_registered', models.IntegerField(db_default=0, default=0, help_text='Confirmed registrations')),
                ('tournaments_played', models.IntegerField(db_default=0, default=0, help_text='Tournaments checked in to')),
                ('tournaments_completed', models.IntegerField(db_default=0, default=0, help_text='Tournaments finished')),
                ('tournaments_won', models.IntegerField(db_default=0, default=0, help_text='1st places')),
                ('tournaments_runner_up', models.IntegerField(db_default=0, default=0, help_text='2nd places')),
                ('tournaments_top4', models.IntegerField(db_default=0, default=0, help_text='3rd and 4th places')),
                ('matches_played', models.IntegerField(db_default=0, default=0, help_text='Matches played')),
                ('matches_won', models.IntegerField(db_default=0, default=0, help_text='Matches won')),
                ('matches_lost', models.IntegerField(db_default=0, default=0, help_text='Matches lost')),
                ('total_earned', models.BigIntegerField(db_default=0, default=0, help_text='DeltaCoins earned')),
                ('total_spent', models.BigIntegerField(db_default=0, default=0, help_text='DeltaCoins spent')),
                ('achievements_count', models.IntegerField(db_default=0, default=0, help_text='Achievements unlocked')),
                ('teams_created', models.IntegerField(db_default=0, default=0, help_text='Teams created')),
                ('teams_joined', models.IntegerField(db_default=0, default=0, help_text='Team memberships started')),
                ('current_teams_count', models.IntegerField(db_default=0, default=0, help_text='Team memberships not yet ended')),
                ('last_activity_at', models.DateTimeField(blank=True, null=True)),
                ('stats_updated_at', models.DateTimeField(auto_now=True)),
            ],
            options={
                'verbose_name': 'user profile stats',
                'verbose_name_plural': 'user profile stats',
                'default_permissions': ('view',),
                'indexes': [models.Index(fields=['tournaments_won', '-tournaments_played'], name='ledger_stats_twon'), models.Index(fields=['matches_won', '-matches_played'], name='ledger_stats_mwon'), models.Index(fields=['total_earned'], name='ledger_stats_earned')],
                'constraints': [models.CheckConstraint(condition=models.Q(('tournaments_registered__gte', 0)), name='ledger_stats_tournaments_registered_gte_0'), models.CheckConstraint(condition=models.Q(('tournaments_played__gte', 0)), name='ledger_stats_tournaments_played_gte_0'), models.CheckConstraint(condition=models.Q(('tournaments_completed__gte', 0)), name='ledger_stats_tournaments_completed_gte_0'), models.CheckConstraint(condition=models.Q(('tournaments_won__gte', 0)), name='ledger_stats_tournaments_won_gte_0'), models.CheckConstraint(condition=models.Q(('tournaments_runner_up__gte', 0)), name='ledger_stats_tournaments_runner_up_gte_0'), models.CheckConstraint(condition=models.Q(('tournaments_top4__gte', 0)), name='ledger_stats_tournaments_top4_gte_0'), models.CheckConstraint(condition=models.Q(('matches_played__gte', 0)), name='ledger_stats_matches_played_gte_0'), models.CheckConstraint(condition=models.Q(('matches_won__gte', 0)), name='ledger_stats_matches_won_gte_0'), models.CheckConstraint(condition=models.Q(('matches_lost__gte', 0)), name='ledger_stats_matches_lost_gte_0'), models.CheckConstraint(condition=models.Q(('total_earned__gte', 0)), name='ledger_stats_total_earned_gte_0'), models.CheckConstraint(condition=models.Q(('total_spent__gte', 0)), name='ledger_stats_total_spent_gte_0'), models.CheckConstraint(condition=models.Q(('achievements_count__gte', 0)), name='ledger_stats_achievements_count_gte_0'), models.CheckConstraint(condition=models.Q(('teams_created__gte', 0)), name='ledger_stats_teams_created_gte_0'), models.CheckConstraint(condition=models.Q(('teams_joined__gte', 0)), name='ledger_stats_teams_joined_gte_0'), models.CheckConstraint(condition=models.Q(('current_teams_count__gte', 0)), name='ledger_stats_current_teams_count_gte_0')],
            },
        ),
        migrations.CreateModel(
            name='UserActivity',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('event_type', models.CharField(choices=[('tournament_registered', 'Registered for tournament'), ('tournament_joined', 'Tournament started (check-in complete)'), ('tournament_completed', 'Tournament finished'), ('tournament_won', 'Won tournament (1st place)'), ('tournament_runner_up', 'Tournament runner-up (2nd)'), ('tournament_top4', 'Tournament top 4 placement'), ('match_played', 'Played match'), ('match_won', 'Won match'), ('match_lost', 'Lost match'), ('coins_earned', 'Earned DeltaCoins'), ('coins_spent', 'Spent DeltaCoins'), ('achievement_unlocked', 'Unlocked achievement'), ('team_created', 'Created team'), ('team_joined', 'Joined team'), ('team_left', 'Left team'), ('reversal', 'Correction')], max_length=32)),
                ('timestamp', models.DateTimeField(help_text='When it happened (historical for backfills).')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, help_text='When the ledger learned of it.')),
                ('metadata', models.JSONField(blank=True, default=dict)),
                ('source_model', models.CharField(max_length=64)),
                ('source_id', models.BigIntegerField()),
                ('occurrence', models.PositiveIntegerField(default=0, help_text='How many earlier events of this source, type and user were reversed: lets a reversed outcome happen again.')),
                ('amount', models.BigIntegerField(default=0, help_text='Coins, positive, for economy events.')),
                ('erased_subject', models.ForeignKey(blank=True, help_text='Set instead of user once the user was erased (GDPR Article 17).', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='activities', to='ledger.erasedsubject')),
                ('reverses', models.OneToOneField(blank=True, help_text='For a reversal: the event it cancels.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='reversed_by', to='ledger.useractivity')),
                ('user', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='activities', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'user activity',
                'verbose_name_plural': 'user activities',
                'ordering': ['-timestamp', '-id'],
                'permissions': [('view_activity_feed', 'Can view activity feed')],
                'default_permissions': ('view',),
                'indexes': [models.Index(fields=['user', '-timestamp', '-id'], name='ledger_activity_feed'), models.Index(fields=['event_type', '-timestamp'], name='ledger_activity_type_time'), models.Index(fields=['user', 'event_type', 'timestamp'], name='ledger_activity_user_type'), models.Index(fields=['source_model', 'source_id'], name='ledger_activity_source')],
                'constraints': [models.UniqueConstraint(condition=models.Q(('reverses__isnull', True)), fields=('source_model', 'source_id', 'event_type', 'user', 'occurrence'), name='ledger_activity_once'), models.CheckConstraint(condition=models.Q(models.Q(('event_type', 'reversal'), ('reverses__isnull', False)), models.Q(models.Q(('event_type', 'reversal'), _negated=True), ('reverses__isnull', True)), _connector='OR'), name='ledger_activity_reversal_points_at_event'), models.CheckConstraint(condition=models.Q(models.Q(('user__isnull', False), ('erased_subject__isnull', True)), models.Q(('user__isnull', True), ('erased_subject__isnull', False)), _connector='OR'), name='ledger_activity_one_subject'), models.CheckConstraint(condition=models.Q(('amount__gte', 0)), name='ledger_activity_amount_gte_0')],
            },
        ),
        migrations.RunPython(on_postgresql(CREATE), on_postgresql(DROP), elidable=False),
        migrations.CreateModel(
            name='LedgerJob',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('backfill', 'Backfill'), ('reconcile', 'Reconcile'), ('export', 'GDPR export'), ('anonymize', 'GDPR anonymization')], max_length=16)),
                ('status', models.CharField(choices=[('pending', 'Pending'), ('running', 'Running'), ('succeeded', 'Succeeded'), ('failed', 'Failed'), ('cancelled', 'Cancelled')], default='pending', max_length=16)),
                ('parameters', models.JSONField(blank=True, default=dict)),
                ('progress_done', models.BigIntegerField(default=0)),
                ('progress_total', models.BigIntegerField(blank=True, null=True)),
                ('result', models.JSONField(blank=True, default=dict)),
                ('error', models.TextField(blank=True, help_text='The error that made the job fail.')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('started_at', models.DateTimeField(blank=True, null=True)),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
                ('requested_by', models.ForeignKey(blank=True, help_text='Who asked; empty for the command line or a schedule.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='ledger_jobs', to=settings.AUTH_USER_MODEL)),
                ('attempt_errors', models.JSONField(blank=True, default=list, help_text='Why each failed attempt ended: [{attempt, worker, at, error}], oldest first.')),
                ('attempts', models.PositiveIntegerField(default=0, help_text='Times a worker took it (LEDGER_JOB_MAX_ATTEMPTS at most).')),
                ('cancel_requested_at', models.DateTimeField(blank=True, null=True)),
                ('cancelled_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='cancelled_ledger_jobs', to=settings.AUTH_USER_MODEL)),
                ('lease_expires_at', models.DateTimeField(blank=True, help_text="Its worker's heartbeat keeps this ahead; once past, another worker takes it.", null=True)),
                ('lease_owner', models.CharField(blank=True, help_text='The worker running it (host:pid:attempt token).', max_length=200)),
                ('queued_at', models.DateTimeField(default=django.utils.timezone.now, help_text='When it was last put in line to run (created, or its task message sent).')),
                ('subject_digest', models.CharField(blank=True, help_text='Anonymization: the keyed digest of its subject (as ErasedSubject keeps it), so a worker can take the job again without the user id, which only its message holds.', max_length=64)),
            ],
            options={
                'ordering': ['-created_at', '-id'],
                'indexes': [models.Index(fields=['-created_at', '-id'], name='ledger_job_newest'), models.Index(fields=['status', '-created_at'], name='ledger_job_status')],
            },
        ),
        migrations.CreateModel(
            name='BackfillCheckpoint',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('source', models.CharField(max_length=64, unique=True)),
                ('last_pk', models.BigIntegerField(default=0)),
                ('rows_done', models.BigIntegerField(default=0)),
                ('started_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('updated_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
            ],
            options={
                'default_permissions': ('view',),
            },
        ),
    ]
