# Match events say whether the two shared a language (yes or no, never which one).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("meet", "0004_moderation_moves_out"),
    ]

    operations = [
        migrations.AddField(
            model_name="matchevent",
            name="language_matched",
            field=models.BooleanField(default=False),
        ),
    ]
