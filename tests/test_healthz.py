"""/healthz probes the database, the channel layer and Redis, and leaves nothing behind."""

from __future__ import annotations

import json
import os
import urllib.request

import pytest
import redis

from conftest import REDIS_URL
from tests.servers import migrate, server_env, servers


def open_sockets(pid: int) -> int:
    directory = f"/proc/{pid}/fd"
    return sum(1 for name in os.listdir(directory) if os.readlink(f"{directory}/{name}").startswith("socket:"))


@pytest.mark.slow
@pytest.mark.redis
def test_healthz_leaves_no_subscription_or_connection_behind(redis_prefix, tmp_path):
    environ = server_env(tmp_path, REDIS_URL=REDIS_URL, REDIS_PREFIX=redis_prefix)
    migrate(environ)
    client = redis.Redis.from_url(REDIS_URL)
    pattern = f"{redis_prefix}asgi*healthz*"

    def probe() -> dict:
        with urllib.request.urlopen(f"{server.http_url}/healthz", timeout=10) as response:
            return json.loads(response.read())

    with servers(1, environ, tmp_path) as (server,):
        for _ in range(30):  # the first requests open the pools the process keeps
            assert probe()["status"] == "ok"
        sockets = open_sockets(server.process.pid)
        for _ in range(200):
            assert probe()["status"] == "ok"
        left = client.pubsub_channels(pattern)
        counts = dict(client.pubsub_numsub(*left)) if left else {}
        assert left == [], f"{len(left)} probe channels still subscribed: {counts}"
        # Connections to Redis are pooled, not one more per request.
        assert open_sockets(server.process.pid) <= sockets
