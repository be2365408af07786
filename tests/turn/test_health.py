"""The staff TURN check: each configured server, asked for a relay as a visitor would ask."""

from __future__ import annotations

import io
import re
import socket

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from tests.servers import free_port
from tests.turn.coturn import coturn

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


@pytest.fixture(scope="module")
def turn(tmp_path_factory):
    with coturn(tmp_path_factory.mktemp("coturn")) as server:
        yield server


@pytest.fixture
def configured(turn, settings, monkeypatch):
    # The test certificate stands in for a public CA, as the system's trust store would.
    monkeypatch.setenv("SSL_CERT_FILE", str(turn.certificate))
    settings.MEET = {**settings.MEET, "TURN_URLS": list(turn.urls().values()), "TURN_SECRET": turn.secret}
    return settings


@pytest.fixture
def staff_client(client):
    client.force_login(User.objects.create_user("ops", password="pw-for-tests", is_staff=True))
    return client


def test_every_transport_answers(configured, staff_client, turn):
    response = staff_client.get("/admin/turn-check.json")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "servers": dict.fromkeys(turn.urls().values(), "ok")}


def test_dead_relays_are_reported_without_the_secret(configured, staff_client, turn, settings):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))  # holds the port: datagrams to it are never answered
        dead = [
            f"turn:127.0.0.1:{silent.getsockname()[1]}?transport=udp",
            f"turn:127.0.0.1:{free_port()}?transport=tcp",
        ]
        settings.MEET = {**settings.MEET, "TURN_URLS": [turn.urls()["udp"], *dead]}
        response = staff_client.get("/admin/turn-check.json")
    assert response.status_code == 503
    servers = response.json()["servers"]
    assert servers[turn.urls()["udp"]] == "ok"
    assert servers[dead[0]] == "no answer within 3 s"
    assert servers[dead[1]] == "unreachable (ConnectionRefusedError)"
    body = response.content.decode()
    assert turn.secret not in body
    assert not re.search(r"\d{10}:", body), "a credential is in the answer"


def test_a_wrong_secret_shows_as_refused(configured, staff_client, turn, settings):
    settings.MEET = {**settings.MEET, "TURN_SECRET": "not-the-one-coturn-has"}
    servers = staff_client.get("/admin/turn-check.json").json()["servers"]
    assert set(servers.values()) == {"error 401 Unauthorized"}


def test_linked_from_the_admin_index(staff_client):
    assert 'href="/admin/turn-check.json"' in staff_client.get("/admin/").content.decode()


def test_staff_only(client, configured, django_user_model):
    assert client.get("/admin/turn-check.json").status_code == 403
    client.force_login(django_user_model.objects.create_user("visitor", password="pw-for-tests"))
    assert client.get("/admin/turn-check.json").json() == {"error": "Staff only."}


def test_answers_in_the_staff_members_language(staff_client, settings):
    """What went wrong reads in the staff member's language; the status words stay for monitoring."""
    refused = f"turn:127.0.0.1:{free_port()}?transport=tcp"
    settings.MEET = {**settings.MEET, "TURN_URLS": [refused], "TURN_SECRET": "s3cret-for-tests"}
    response = staff_client.get("/admin/turn-check.json", HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 503
    assert response.json() == {"status": "failing", "servers": {refused: "inaccesible (ConnectionRefusedError)"}}
    anonymous = staff_client.__class__().get("/admin/turn-check.json", HTTP_ACCEPT_LANGUAGE="fr")
    assert anonymous.json() == {"error": "Réservé à l’équipe."}


def test_command_for_monitoring(configured, turn, settings):
    out = io.StringIO()
    call_command("check_turn", stdout=out)
    assert out.getvalue().count(": ok") == 3
    settings.MEET = {**settings.MEET, "TURN_URLS": [f"turn:127.0.0.1:{free_port()}?transport=tcp"]}
    with pytest.raises(CommandError, match="1 of 1"):
        call_command("check_turn", stdout=io.StringIO())
