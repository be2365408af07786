# Labels staff read in the admin, in their own language; no change to the tables.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("meet", "0005_language_matches"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="matchevent",
            options={"ordering": ["-started_at"], "verbose_name": "match event", "verbose_name_plural": "match events"},
        ),
        migrations.AlterField(
            model_name="matchevent",
            name="duration_seconds",
            field=models.FloatField(verbose_name="duration seconds"),
        ),
        migrations.AlterField(
            model_name="matchevent",
            name="end_reason",
            field=models.CharField(
                choices=[("next", "Next"), ("leave", "Leave"), ("disconnect", "Disconnect")],
                max_length=16,
                verbose_name="end reason",
            ),
        ),
        migrations.AlterField(
            model_name="matchevent",
            name="ended_at",
            field=models.DateTimeField(db_index=True, verbose_name="ended at"),
        ),
        migrations.AlterField(
            model_name="matchevent",
            name="interest_matched",
            field=models.BooleanField(default=False, verbose_name="interest matched"),
        ),
        migrations.AlterField(
            model_name="matchevent",
            name="language_matched",
            field=models.BooleanField(default=False, verbose_name="language matched"),
        ),
        migrations.AlterField(
            model_name="matchevent",
            name="partner_wait_seconds",
            field=models.FloatField(
                help_text="How long the second of the two had waited.", verbose_name="partner wait seconds"
            ),
        ),
        migrations.AlterField(
            model_name="matchevent",
            name="started_at",
            field=models.DateTimeField(db_index=True, verbose_name="started at"),
        ),
        migrations.AlterField(
            model_name="matchevent",
            name="wait_seconds",
            field=models.FloatField(
                help_text="How long the first of the two had waited in the queue.", verbose_name="wait seconds"
            ),
        ),
    ]
