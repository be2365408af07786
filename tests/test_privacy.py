"""Privacy, measured: after calls, signaling, reports and bans on two processes, no table and no
log line holds an address, a peer id or anything the visitors said. And the privacy article lists
exactly the columns the database has."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import websockets
from django.apps import apps
from django.utils.crypto import salted_hmac

from conftest import REDIS_URL
from moderation.addresses import HASH_SALT
from tests.protocol_client import Peer
from tests.servers import ROOT, migrate, server_env, servers

ALICE, BOB, CAROL = "198.51.100.7", "203.0.113.8", "192.0.2.44"
SECRET_WORDS = "zeta-reticuli-secret-words"


def manage(environ: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.slow
@pytest.mark.redis
async def test_privacy_walk_across_two_processes(redis_prefix, tmp_path):
    environ = server_env(
        tmp_path,
        REDIS_URL=REDIS_URL,
        REDIS_PREFIX=redis_prefix,
        TRUSTED_PROXIES="127.0.0.1",
        DJANGO_SECRET_KEY="privacy-walk-key",
    )
    migrate(environ)
    with servers(2, environ, tmp_path) as (one, two):
        alice = await Peer.connect_to(one.ws_url, forwarded_for=ALICE)
        bob = await Peer.connect_to(two.ws_url, forwarded_for=BOB)
        peer_ids = [alice.hello["peer_id"], bob.hello["peer_id"]]
        await alice.send({"type": "join", "interests": ["astronomy"]})
        await alice.expect("waiting")
        await bob.send({"type": "join", "interests": ["astronomy"]})
        match_id = (await bob.expect("matched"))["match_id"]
        await alice.expect("matched", match_id=match_id)
        offer = {"description": {"type": "offer", "sdp": f"v=0 {SECRET_WORDS} c=IN IP4 {ALICE}"}}
        await alice.send({"type": "signal", "match_id": match_id, "data": offer})
        await bob.expect("signal", data=offer)
        # Each browser says how it connected; only a count for the minute is kept.
        await alice.send({"type": "connection_report", "match_id": match_id, "outcome": "direct", "connect_ms": 731})
        await bob.send({"type": "connection_report", "match_id": match_id, "outcome": "relay_tls", "connect_ms": 1234})

        # Alice reports Bob: Bob's own process files it, keyed by his address hash.
        await alice.send({"type": "report", "match_id": match_id, "reason": "harassment"})
        await alice.expect("reported", match_id=match_id)
        await bob.expect("partner_left", reason="next")
        await bob.close()

        # Staff ban the reported address; both processes refuse it at once.
        manage(
            environ,
            "shell",
            "-c",
            "from moderation.models import ReportedAddress; from moderation.decisions import ban_addresses; "
            "ban_addresses(list(ReportedAddress.objects.all()), 1)",
        )
        for server in (one, two):
            banned = await Peer.connect_to(server.ws_url, forwarded_for=BOB, greeted=False)
            refused = banned.hello
            assert refused["type"] == "error" and refused["code"] == "banned"
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(banned.connection.recv(), 10)
            assert closed.value.rcvd.code == 4003

        # Another call, ended by a disconnect.
        carol = await Peer.connect_to(one.ws_url, forwarded_for=CAROL)
        peer_ids.append(carol.hello["peer_id"])
        await carol.send({"type": "join"})
        await alice.send({"type": "join"})
        second = await asyncio.wait_for(_first_matched(alice, carol), 10)
        await carol.close()
        await alice.expect("partner_left", match_id=second, reason="disconnect")
        await alice.close()
        await asyncio.sleep(0)
    logs = one.log_text() + two.log_text()

    tables = manage(environ, "dumpdata", "--indent", "0")
    data = json.loads(tables)
    assert any(row["model"] == "moderation.report" for row in data)
    assert any(row["model"] == "callstats.matchevent" for row in data)
    assert any(row["model"] == "moderation.ban" for row in data)
    [connections] = [row["fields"] for row in data if row["model"] == "callstats.connectionbucket"]
    assert (connections["direct"], connections["relay_tls"], connections["connected_under_2s"]) == (1, 1, 1)
    for exact_time in ("731", "1234"):
        assert exact_time not in json.dumps(connections)
    for secret in [ALICE, BOB, CAROL, SECRET_WORDS, match_id, *peer_ids]:
        assert secret not in tables, f"{secret!r} is stored"
        assert secret not in logs, f"{secret!r} is in the server log"
    assert not re.search(r"\b\d{1,3}(\.\d{1,3}){3}\b", logs), "an IPv4 address is in the server log"
    # What is kept of Bob is the keyed hash of his address, made with the servers' key.
    assert salted_hmac(HASH_SALT, BOB, secret="privacy-walk-key", algorithm="sha256").hexdigest() in tables


async def _first_matched(*peers: Peer) -> str:
    match_ids = set()
    for peer in peers:
        message = await peer.receive()
        while message["type"] == "waiting":
            message = await peer.receive()
        assert message["type"] == "matched", message
        match_ids.add(message["match_id"])
    assert len(match_ids) == 1
    return match_ids.pop()


def test_privacy_article_lists_every_stored_column():
    article = (Path(__file__).resolve().parents[1] / "content" / "privacy.md").read_text(encoding="utf-8")
    section = article.split("## Exactly what is stored", 1)[1].split("\n## ", 1)[0]
    listed = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0] not in {"table", "---"}:
            listed[cells[0]] = {column.strip() for column in cells[1].split(",")}
    stored = {
        str(model._meta.verbose_name_plural): {
            str(field.verbose_name) for field in model._meta.concrete_fields if not field.primary_key
        }
        for app in ("callstats", "moderation")
        for model in apps.get_app_config(app).get_models()
    }
    assert listed == stored
