"""The admin login locks an address out after a few wrong passwords, and lets it in again later."""

from __future__ import annotations

import secrets
from collections.abc import Callable

import pytest
import redis
from django.contrib.auth.models import User
from django.core.cache import cache

from conftest import REDIS_URL
from tests.servers import wait_until

pytestmark = pytest.mark.django_db

GUESSER, COLLEAGUE = "198.51.100.23", "203.0.113.9"
PASSWORD = "correct horse battery staple 7"


@pytest.fixture(params=["memory", "redis"])
def stored_keys(request, settings) -> Callable[[], str]:
    """Set the throttle up on one cache backend; returns what that cache holds, as text."""
    settings.ADMIN_LOGIN = {"FAILURES": 3, "LOCKOUT": 2}
    User.objects.create_user("ops", password=PASSWORD, is_staff=True)
    if request.param == "memory":
        # A store of this test's own (never cache.clear() on whatever the environment configured).
        location = f"admin-login-{secrets.token_hex(4)}"
        settings.CACHES = {
            "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": location}
        }
        return lambda: " ".join(cache._cache)  # LocMemCache's own store
    prefix = request.getfixturevalue("redis_prefix")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    client = redis.Redis.from_url(REDIS_URL)
    return lambda: " ".join(key.decode() for key in client.scan_iter(match=f"{prefix}*"))


def login(client, password: str, address: str):
    return client.post("/admin/login/?next=/admin/", {"username": "ops", "password": password}, REMOTE_ADDR=address)


def test_wrong_passwords_lock_the_address_out_until_the_period_ends(client, stored_keys, caplog):
    for _ in range(3):
        response = login(client, "guess", GUESSER)
        assert response.status_code == 200
        assert "Please enter the correct username and password" in response.content.decode()
    refused = login(client, PASSWORD, GUESSER)
    assert refused.status_code == 200, "the right password got in during the lock-out"
    assert "Too many failed logins" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    locked = [record.getMessage() for record in caplog.records if "admin_login_locked" in record.getMessage()]
    assert len(locked) == 1 and GUESSER not in locked[0] and "ops" not in locked[0]

    # Another address is not locked out by the guesser.
    assert login(client.__class__(), PASSWORD, COLLEAGUE).status_code == 302

    # What is kept is a keyed hash of the address, not the address.
    kept = stored_keys()
    assert "admin-login:locked:" in kept and GUESSER not in kept

    # An empty password never reaches the password check, so polling with it records no failure.
    wait_until(
        lambda: "Too many" not in login(client, "", GUESSER).content.decode(),
        10,
        interval=0.2,
        what="the end of the lock-out",
    )
    welcome = login(client, PASSWORD, GUESSER)
    assert welcome.status_code == 302 and welcome["Location"] == "/admin/"


def test_a_right_password_clears_earlier_mistakes(client, stored_keys):
    for _ in range(2):
        login(client, "guess", GUESSER)
    assert login(client, PASSWORD, GUESSER).status_code == 302
    client.logout()
    for _ in range(2):
        assert "Too many" not in login(client, "guess", GUESSER).content.decode()
    assert login(client, PASSWORD, GUESSER).status_code == 302
