# The statistics now belong to the callstats app, which keeps their tables (and rows) as they are.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("meet", "0007_picture_recoveries"),
        ("callstats", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(
                    name="ConnectionBucket",
                ),
                migrations.DeleteModel(
                    name="MatchEvent",
                ),
                migrations.DeleteModel(
                    name="MinuteBucket",
                ),
            ]
        )
    ]
