# Labels staff read in the admin, in their own language; no change to the tables.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0002_evidence_and_decisions"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="ban",
            options={"ordering": ["-until"], "verbose_name": "ban", "verbose_name_plural": "bans"},
        ),
        migrations.AlterModelOptions(
            name="decision",
            options={"ordering": ["-decided_at"], "verbose_name": "decision", "verbose_name_plural": "decisions"},
        ),
        migrations.AlterModelOptions(
            name="report",
            options={"ordering": ["-created_at"], "verbose_name": "report", "verbose_name_plural": "reports"},
        ),
        migrations.AlterModelOptions(
            name="reportedaddress",
            options={
                "ordering": ["-report_count", "-last_reported_at"],
                "verbose_name": "reported address",
                "verbose_name_plural": "reported addresses",
            },
        ),
        migrations.AlterField(
            model_name="ban",
            name="created_at",
            field=models.DateTimeField(auto_now_add=True, verbose_name="created at"),
        ),
        migrations.AlterField(
            model_name="ban",
            name="ip_hash",
            field=models.CharField(db_index=True, max_length=64, verbose_name="ip hash"),
        ),
        migrations.AlterField(
            model_name="ban",
            name="reason",
            field=models.CharField(max_length=200, verbose_name="reason"),
        ),
        migrations.AlterField(
            model_name="ban",
            name="until",
            field=models.DateTimeField(db_index=True, verbose_name="until"),
        ),
        migrations.AlterField(
            model_name="decision",
            name="action",
            field=models.CharField(
                choices=[
                    ("dismiss", "Dismissed"),
                    ("ban_1", "Banned for 1 day"),
                    ("ban_7", "Banned for 7 days"),
                    ("ban_30", "Banned for 30 days"),
                    ("ban_permanent", "Banned permanently"),
                    ("auto_ban", "Banned automatically"),
                ],
                max_length=16,
                verbose_name="action",
            ),
        ),
        migrations.AlterField(
            model_name="decision",
            name="address",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="decisions",
                to="moderation.reportedaddress",
                verbose_name="address",
            ),
        ),
        migrations.AlterField(
            model_name="decision",
            name="decided_at",
            field=models.DateTimeField(auto_now_add=True, db_index=True, verbose_name="decided at"),
        ),
        migrations.AlterField(
            model_name="decision",
            name="decided_by",
            field=models.ForeignKey(
                blank=True,
                help_text="The staff member; empty for the automatic protection.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                to=settings.AUTH_USER_MODEL,
                verbose_name="decided by",
            ),
        ),
        migrations.AlterField(
            model_name="report",
            name="address",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="reports",
                to="moderation.reportedaddress",
                verbose_name="address",
            ),
        ),
        migrations.AlterField(
            model_name="report",
            name="chat",
            field=models.JSONField(
                blank=True, default=list, help_text='[{"from": "reporter"|"reported", "text": …}]', verbose_name="chat"
            ),
        ),
        migrations.AlterField(
            model_name="report",
            name="created_at",
            field=models.DateTimeField(auto_now_add=True, db_index=True, verbose_name="created at"),
        ),
        migrations.AlterField(
            model_name="report",
            name="decision",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="reports",
                to="moderation.decision",
                verbose_name="decision",
            ),
        ),
        migrations.AlterField(
            model_name="report",
            name="escalated",
            field=models.BooleanField(
                default=False, help_text="Several reporters at once: banned automatically.", verbose_name="escalated"
            ),
        ),
        migrations.AlterField(
            model_name="report",
            name="reason",
            field=models.CharField(
                choices=[
                    ("nudity", "Nudity"),
                    ("harassment", "Harassment"),
                    ("spam", "Spam"),
                    ("underage", "Underage"),
                    ("other", "Other"),
                ],
                max_length=16,
                verbose_name="reason",
            ),
        ),
        migrations.AlterField(
            model_name="report",
            name="snapshot",
            field=models.BinaryField(
                blank=True, help_text="JPEG re-encoded by the server; no metadata.", null=True, verbose_name="snapshot"
            ),
        ),
        migrations.AlterField(
            model_name="reportedaddress",
            name="first_reported_at",
            field=models.DateTimeField(auto_now_add=True, verbose_name="first reported at"),
        ),
        migrations.AlterField(
            model_name="reportedaddress",
            name="ip_hash",
            field=models.CharField(
                help_text="HMAC-SHA256 of the address; not reversible.",
                max_length=64,
                unique=True,
                verbose_name="ip hash",
            ),
        ),
        migrations.AlterField(
            model_name="reportedaddress",
            name="last_reported_at",
            field=models.DateTimeField(auto_now=True, db_index=True, verbose_name="last reported at"),
        ),
        migrations.AlterField(
            model_name="reportedaddress",
            name="report_count",
            field=models.PositiveIntegerField(default=0, verbose_name="report count"),
        ),
    ]
