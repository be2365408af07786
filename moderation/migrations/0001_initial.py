# The tables were created by meet's 0002 migration; this app takes them over as they are.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("meet", "0002_moderation_and_buckets"),
    ]

    state_operations = [
        migrations.CreateModel(
            name="Ban",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("ip_hash", models.CharField(db_index=True, max_length=64)),
                ("reason", models.CharField(max_length=200)),
                ("until", models.DateTimeField(db_index=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={"db_table": "meet_ban", "ordering": ["-until"]},
        ),
        migrations.CreateModel(
            name="ReportedAddress",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "ip_hash",
                    models.CharField(
                        help_text="HMAC-SHA256 of the address; not reversible.", max_length=64, unique=True
                    ),
                ),
                ("report_count", models.PositiveIntegerField(default=0)),
                ("first_reported_at", models.DateTimeField(auto_now_add=True)),
                ("last_reported_at", models.DateTimeField(auto_now=True, db_index=True)),
            ],
            options={
                "db_table": "meet_reportedaddress",
                "verbose_name_plural": "reported addresses",
                "ordering": ["-report_count", "-last_reported_at"],
            },
        ),
        migrations.CreateModel(
            name="Report",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "reason",
                    models.CharField(
                        choices=[
                            ("nudity", "Nudity"),
                            ("harassment", "Harassment"),
                            ("spam", "Spam"),
                            ("underage", "Underage"),
                            ("other", "Other"),
                        ],
                        max_length=16,
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                (
                    "address",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="reports",
                        to="moderation.reportedaddress",
                    ),
                ),
            ],
            options={"db_table": "meet_report", "ordering": ["-created_at"]},
        ),
    ]

    operations = [migrations.SeparateDatabaseAndState(state_operations=state_operations)]
