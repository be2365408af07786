# Staff keep the statistics permissions they were given: the models' content types move with them,
# so every permission row (and every group or user holding it) now names callstats.

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

MODELS = ("matchevent", "minutebucket", "connectionbucket")


def to_callstats(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    moved = content_type.objects.filter(app_label="meet", model__in=MODELS)
    # A database migrated in one go has no content types yet (they are made after migrating).
    taken = set(content_type.objects.filter(app_label="callstats", model__in=MODELS).values_list("model", flat=True))
    moved.exclude(model__in=taken).update(app_label="callstats")


def to_meet(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    content_type.objects.filter(app_label="callstats", model__in=MODELS).update(app_label="meet")


class Migration(migrations.Migration):
    dependencies = [
        ("callstats", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(to_callstats, to_meet)]
