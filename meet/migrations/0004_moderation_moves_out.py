# Reports and bans now belong to the moderation app, which keeps their tables (and rows) as they are.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("meet", "0003_connection_stats"),
        ("moderation", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="Report"),
                migrations.DeleteModel(name="ReportedAddress"),
                migrations.DeleteModel(name="Ban"),
            ]
        )
    ]
