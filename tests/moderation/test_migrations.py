"""Moving reports and bans into the moderation app keeps every row."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("meet", "0002_moderation_and_buckets"), ("moderation", None)]


def test_rows_written_before_the_move_are_there_after_it():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE[0]).apps
    address = old.get_model("meet", "ReportedAddress").objects.create(ip_hash="a" * 64, report_count=2)
    old.get_model("meet", "Report").objects.create(address=address, reason="spam")
    old.get_model("meet", "Report").objects.create(address=address, reason="underage")
    until = timezone.now() + datetime.timedelta(days=1)
    old.get_model("meet", "Ban").objects.create(ip_hash="a" * 64, reason="spam", until=until)

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    from moderation.models import Ban, Report, ReportedAddress

    moved = ReportedAddress.objects.get()
    assert moved.ip_hash == "a" * 64 and moved.report_count == 2
    assert sorted(Report.objects.values_list("reason", flat=True)) == ["spam", "underage"]
    assert all(report.decision is None and report.chat == [] for report in Report.objects.all())
    ban = Ban.objects.get()
    assert ban.until == until and ban.reason == "spam"
