# The tables were created by meet's migrations; this app takes them over as they are, rows included.

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("meet", "0007_picture_recoveries"),
    ]

    state_operations = [
        migrations.CreateModel(
            name="ConnectionBucket",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("minute", models.DateTimeField(unique=True)),
                ("direct", models.PositiveIntegerField(default=0, help_text="Peer to peer, no relay on this side.")),
                ("relay_udp", models.PositiveIntegerField(default=0, help_text="Through our TURN relay over UDP.")),
                ("relay_tcp", models.PositiveIntegerField(default=0, help_text="Through our TURN relay over TCP.")),
                ("relay_tls", models.PositiveIntegerField(default=0, help_text="Through our TURN relay over TLS.")),
                ("failed", models.PositiveIntegerField(default=0, help_text="Never connected.")),
                ("connected_under_1s", models.PositiveIntegerField(default=0)),
                ("connected_under_2s", models.PositiveIntegerField(default=0)),
                ("connected_under_5s", models.PositiveIntegerField(default=0)),
                ("connected_under_10s", models.PositiveIntegerField(default=0)),
                ("connected_under_30s", models.PositiveIntegerField(default=0)),
                ("connected_over_30s", models.PositiveIntegerField(default=0)),
                (
                    "picture_recovered",
                    models.PositiveIntegerField(
                        default=0,
                        help_text="Stranger's picture froze (decoded, not shown) and the page brought it back.",
                    ),
                ),
            ],
            options={
                "db_table": "meet_connectionbucket",
                "ordering": ["-minute"],
            },
        ),
        migrations.CreateModel(
            name="MinuteBucket",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("minute", models.DateTimeField(unique=True)),
                ("matches", models.PositiveIntegerField(default=0)),
                (
                    "quick_nexts",
                    models.PositiveIntegerField(default=0, help_text="Calls ended by Next within 10 seconds."),
                ),
                ("interest_matched", models.PositiveIntegerField(default=0)),
                ("wait_under_1s", models.PositiveIntegerField(default=0)),
                ("wait_under_5s", models.PositiveIntegerField(default=0)),
                ("wait_under_15s", models.PositiveIntegerField(default=0)),
                ("wait_under_60s", models.PositiveIntegerField(default=0)),
                ("wait_over_60s", models.PositiveIntegerField(default=0)),
            ],
            options={
                "db_table": "meet_minutebucket",
                "ordering": ["-minute"],
            },
        ),
        migrations.CreateModel(
            name="MatchEvent",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("started_at", models.DateTimeField(db_index=True, verbose_name="started at")),
                ("ended_at", models.DateTimeField(db_index=True, verbose_name="ended at")),
                (
                    "wait_seconds",
                    models.FloatField(
                        help_text="How long the first of the two had waited in the queue.", verbose_name="wait seconds"
                    ),
                ),
                (
                    "partner_wait_seconds",
                    models.FloatField(
                        help_text="How long the second of the two had waited.", verbose_name="partner wait seconds"
                    ),
                ),
                ("duration_seconds", models.FloatField(verbose_name="duration seconds")),
                (
                    "end_reason",
                    models.CharField(
                        choices=[("next", "Next"), ("leave", "Leave"), ("disconnect", "Disconnect")],
                        max_length=16,
                        verbose_name="end reason",
                    ),
                ),
                ("interest_matched", models.BooleanField(default=False, verbose_name="interest matched")),
                ("language_matched", models.BooleanField(default=False, verbose_name="language matched")),
            ],
            options={
                "verbose_name": "match event",
                "verbose_name_plural": "match events",
                "db_table": "meet_matchevent",
                "ordering": ["-started_at"],
                "indexes": [models.Index(fields=["ended_at", "end_reason"], name="meet_matche_ended_a_d0bd01_idx")],
            },
        ),
    ]

    operations = [migrations.SeparateDatabaseAndState(state_operations=state_operations)]
