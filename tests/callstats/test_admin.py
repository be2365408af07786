"""Staff pages: Live stats page and JSON, /metrics, the read-only event list, reports and bans, purge_stats."""

import datetime
import json

import pytest
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from alienmeet_site.asgi import application
from callstats.models import ConnectionBucket, MatchEvent, MinuteBucket
from tests.protocol_client import ORIGIN
from tests.staff import verified_login


def match_event(at: datetime.datetime, reason: str) -> MatchEvent:
    return MatchEvent.objects.create(
        started_at=at, ended_at=at, wait_seconds=0, partner_wait_seconds=0, duration_seconds=0, end_reason=reason
    )


@pytest.fixture
def staff(db):
    return User.objects.create_user("ops", password="pw-for-tests", is_staff=True, is_superuser=True)


@pytest.fixture
def staff_client(client, staff):
    verified_login(client, staff)
    return client


@pytest.mark.django_db
def test_live_stats_linked_from_admin_index(staff_client):
    html = staff_client.get("/admin/").content.decode()
    assert 'href="/admin/live-stats/"' in html and "Live stats" in html


@pytest.mark.django_db
def test_live_stats_page_is_staff_only(client, staff_client, django_user_model):
    anonymous = client.__class__()
    response = anonymous.get("/admin/live-stats/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    visitor = django_user_model.objects.create_user("visitor", password="pw")
    plain = client.__class__()
    plain.force_login(visitor)
    assert plain.get("/admin/live-stats/").status_code == 302
    page = staff_client.get("/admin/live-stats/")
    assert page.status_code == 200
    html = page.content.decode()
    for label in ("Online now", "Calls in progress", "Waiting in the queue", "Median wait before a match"):
        assert label in html


@pytest.mark.django_db(transaction=True)
def test_live_stats_json_is_staff_only(client, staff_client, backend):
    anonymous = client.__class__().get("/admin/live-stats.json")
    assert anonymous.status_code == 403 and anonymous.json() == {"error": "Staff only."}
    data = staff_client.get("/admin/live-stats.json").json()
    assert data["live"] == {"online": 0, "waiting": 0, "in_calls": 0}
    assert set(data["windows"]) == {"hour", "day"}
    assert len(data["charts"]["per_minute"]) == 60


@pytest.mark.django_db(transaction=True)
def test_live_stats_in_the_staff_members_language(staff_client, backend):
    page = staff_client.get("/admin/live-stats/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "<title>Estadísticas en vivo" in page
    data = staff_client.get("/admin/live-stats.json", HTTP_ACCEPT_LANGUAGE="hi").json()
    labels = [bin["label"] for bin in data["charts"]["wait_histogram"]]
    assert labels == ["1 से. से कम", "1 से 5 से.", "5 से 15 से.", "15 से 60 से.", "60 से. से ज़्यादा"]
    match_event(timezone.now(), "disconnect")
    listing = staff_client.get("/admin/callstats/matchevent/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Выберите событие пары для просмотра" in listing and "Причина окончания" in listing  # the model and a column
    assert "Обрыв связи" in listing  # the end reasons in the filter


@pytest.mark.django_db(transaction=True)
def test_metrics_needs_the_token(client, settings, backend):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    settings.METRICS_TOKEN = "scrape-me"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-me")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    assert "alienmeet_online 0" in response.content.decode()


@pytest.mark.django_db(transaction=True)
async def test_staff_websocket_pushes_live_figures(backend, staff):
    from channels.db import database_sync_to_async
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    def make_session() -> str:
        session = SessionStore()
        session[SESSION_KEY] = str(staff.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = staff.get_session_auth_hash()
        session.save()
        return session.session_key

    key = await database_sync_to_async(make_session)()
    cookie = (b"cookie", f"sessionid={key}".encode())
    anonymous = WebsocketCommunicator(application, "/ws/admin/live-stats/", headers=[ORIGIN])
    connected, _ = await anonymous.connect(timeout=5)
    assert not connected
    await anonymous.disconnect()

    language = (b"accept-language", b"tr-TR,tr;q=0.9")
    watcher = WebsocketCommunicator(application, "/ws/admin/live-stats/", headers=[ORIGIN, cookie, language])
    connected, _ = await watcher.connect(timeout=5)
    assert connected
    first = json.loads(await watcher.receive_from(timeout=5))
    assert first["type"] == "stats" and first["stats"]["live"]["in_calls"] == 0
    assert first["stats"]["charts"]["wait_histogram"][0]["label"] == "1 sn'den az"  # the staff member's language

    from tests.protocol_client import matched_pair

    alice, bob, _ = await matched_pair()
    for _ in range(5):
        update = json.loads(await watcher.receive_from(timeout=5))
        if update["stats"]["live"]["in_calls"] == 1:
            break
    assert update["stats"]["live"] == {"online": 2, "waiting": 0, "in_calls": 1}
    await alice.close()
    await bob.close()
    await watcher.disconnect()


@pytest.mark.django_db
def test_match_events_are_read_only_in_the_admin(staff_client):
    event = match_event(timezone.now(), "next")
    listing = staff_client.get("/admin/callstats/matchevent/?end_reason__exact=next")
    assert listing.status_code == 200
    assert staff_client.get("/admin/callstats/matchevent/add/").status_code == 403
    detail = staff_client.get(f"/admin/callstats/matchevent/{event.pk}/change/").content.decode()
    assert 'name="_save"' not in detail


@pytest.mark.django_db
def test_purge_stats_deletes_only_old_rows():
    now = timezone.now()
    for days in (1, 10, 40):
        at = now - datetime.timedelta(days=days)
        match_event(at, "leave")
        MinuteBucket.objects.create(minute=at.replace(second=0, microsecond=0), matches=1)
        ConnectionBucket.objects.create(minute=at.replace(second=0, microsecond=0), direct=1)
    call_command("purge_stats", "--older-than", "7")
    assert MatchEvent.objects.count() == 1
    assert MinuteBucket.objects.count() == 1
    assert ConnectionBucket.objects.count() == 1
    with pytest.raises(CommandError):
        call_command("purge_stats", "--older-than", "0")
