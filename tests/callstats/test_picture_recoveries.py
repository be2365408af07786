"""Picture recoveries: a page whose stranger's picture froze and came back says so; only a per-minute count is kept."""

from __future__ import annotations

import asyncio
import datetime
import json

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from callstats.connection_stats import ConnectionReportBuffer, connection_figures, save_reports
from callstats.models import ConnectionBucket
from meet import protocol
from tests.protocol_client import matched_pair


def test_a_recovery_names_only_its_match():
    frame = json.dumps({"type": "picture_recovered", "match_id": "m1"})
    assert protocol.parse_frame(frame) == protocol.PictureRecovered("m1")


@pytest.mark.parametrize(
    "fields",
    [{}, {"match_id": 7}, {"match_id": "m1", "frames": 20}, {"match_id": "m1", "address": "198.51.100.7"}],
)
def test_bad_recoveries_are_refused(fields):
    with pytest.raises(protocol.ProtocolError) as refused:
        protocol.parse_frame(json.dumps({"type": "picture_recovered", **fields}))
    assert refused.value.code == protocol.BAD_MESSAGE


async def counted() -> int:
    bucket = await database_sync_to_async(ConnectionBucket.objects.first)()
    return bucket.picture_recovered if bucket else 0


@pytest.mark.django_db(transaction=True)
async def test_each_browser_counts_a_call_once_and_only_its_own_match(backend):
    first, second, match_id = await matched_pair()
    for _ in range(3):  # a picture that froze three times is one call with the problem
        await first.send({"type": "picture_recovered", "match_id": match_id})
    await second.send({"type": "picture_recovered", "match_id": match_id})
    await second.send({"type": "picture_recovered", "match_id": "someone-elses"})
    await second.expect("error", code=protocol.NOT_MATCHED)
    # Duplicates are dropped without a word: the refusal of a bad frame sent after them comes first.
    await first.send({"type": "picture_recovered"})
    await first.expect("error", code=protocol.BAD_MESSAGE)

    deadline = asyncio.get_running_loop().time() + 5
    while await counted() < 2:
        assert asyncio.get_running_loop().time() < deadline, "recoveries never reached the database"
        await asyncio.sleep(0.1)
    bucket = await database_sync_to_async(ConnectionBucket.objects.get)()
    assert bucket.picture_recovered == 2
    # A recovery is not a connection report: no path or time is made up for it.
    assert (bucket.direct, bucket.relay_udp, bucket.failed, bucket.connected_under_1s) == (0, 0, 0, 0)
    await first.close()
    await second.close()


@pytest.mark.django_db
def test_figures_count_recoveries_in_the_window():
    now = timezone.now().replace(second=20, microsecond=0)
    buffer = ConnectionReportBuffer()
    recent = (now - datetime.timedelta(minutes=5)).timestamp()
    buffer.add("direct", 400, now=recent)
    buffer.add_picture_recovery(now=recent)
    buffer.add_picture_recovery(now=(now - datetime.timedelta(hours=5)).timestamp())
    save_reports(dict(buffer.pending))
    hour = connection_figures(now - datetime.timedelta(hours=1))
    day = connection_figures(now - datetime.timedelta(days=1))
    assert (hour["picture_recoveries"], day["picture_recoveries"]) == (1, 2)
    assert hour["reports"] == 1  # recoveries are not reports of how a call connected
