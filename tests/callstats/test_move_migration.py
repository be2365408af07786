"""The statistics moved from meet to callstats: rows and the staff's permissions on them stay."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

SETTLED = [("contenttypes", "0002_remove_content_type_name"), ("auth", "0012_alter_user_first_name_max_length")]
BEFORE = [*SETTLED, ("meet", "0007_picture_recoveries"), ("moderation", "0005_staff_actions"), ("callstats", None)]
AFTER = [*SETTLED, ("meet", "0008_statistics_move_out"), ("callstats", "0002_permissions_follow")]


def migrate_to(targets: list[tuple[str, str | None]]):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state([target for target in targets if target[1] is not None]).apps


@pytest.mark.django_db(transaction=True)
def test_a_database_from_before_the_move_keeps_its_rows_and_permissions():
    old = migrate_to(BEFORE)
    content_type = old.get_model("contenttypes", "ContentType")
    permission = old.get_model("auth", "Permission")
    group = old.get_model("auth", "Group")
    match_event = old.get_model("meet", "MatchEvent")
    # The test database has its content types already; before the move they name meet.
    kind, _ = content_type.objects.get_or_create(app_label="meet", model="matchevent")
    view, _ = permission.objects.get_or_create(
        content_type=kind, codename="view_matchevent", defaults={"name": "Can view match event"}
    )
    group.objects.create(name="statistics").permissions.add(view)
    match_event.objects.create(
        started_at="2026-12-01T10:00:00Z",
        ended_at="2026-12-01T10:01:00Z",
        wait_seconds=1.0,
        partner_wait_seconds=2.0,
        duration_seconds=60.0,
        end_reason="next",
    )
    try:
        new = migrate_to(AFTER)
        assert new.get_model("callstats", "MatchEvent").objects.get().duration_seconds == 60.0
        [held] = new.get_model("auth", "Group").objects.get(name="statistics").permissions.all()
        assert (held.content_type.app_label, held.codename) == ("callstats", "view_matchevent")
    finally:
        migrate_to(AFTER)
