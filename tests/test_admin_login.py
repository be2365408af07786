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


@pytest.fixture(autouse=True)
def own_throttle_store(settings):
    """Each test counts its own wrong passwords and codes: earlier tests' from the same address don't lock it."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": secrets.token_hex(4)}
    }


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


# The second factor: staff who may see evidence or decide need it; the password alone reaches no such page.
EVIDENCE_PAGES = ("/admin/", "/admin/moderation/report/queue/", "/admin/live-stats/", "/admin/moderation/report/")


@pytest.fixture
def superuser(django_user_model):
    """As `manage.py createsuperuser` makes one: no second factor yet."""
    return django_user_model.objects.create_superuser("lead", password=PASSWORD)


def password_login(client, username: str = "lead"):
    return client.post(
        "/admin/login/?next=/admin/moderation/report/queue/", {"username": username, "password": PASSWORD}
    )


def test_a_new_superuser_is_sent_to_enrol_and_reaches_nothing_before(client, superuser):
    from moderation.models import Report, ReportedAddress
    from tests.moderation.test_evidence import jpeg

    case = Report.objects.create(
        address=ReportedAddress.objects.create(ip_hash="a" * 64), reason="nudity", snapshot=jpeg()
    )
    assert password_login(client).status_code == 302
    for url in (
        *EVIDENCE_PAGES,
        f"/admin/moderation/report/{case.pk}/snapshot/",
        f"/admin/moderation/report/{case.pk}/case/",
    ):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/admin/second-factor/enrol/"), url
    assert client.get("/admin/live-stats.json").status_code == 403
    assert client.post(f"/admin/moderation/report/{case.pk}/decide/", {"action": "ban_1"}).status_code == 302
    from moderation.models import Ban

    assert not Ban.objects.exists()


def test_enrolment_with_a_code_computed_from_the_shown_key_then_recovery_codes(client, superuser, settings):
    import re

    from tests.staff import totp_code

    # django-otp's own hold after a wrong code is not what this test checks; retrying through it would
    # count every refused retry towards the address's lock-out, sooner the faster the machine.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    password_login(client)
    page = client.get("/admin/second-factor/enrol/?next=/admin/moderation/report/queue/")
    html = page.content.decode()
    assert "<svg" in html and page["Cache-Control"].startswith("private")
    secret = re.search(r'data-totp-secret="([A-Z2-7]+)"', html).group(1)
    wrong = client.post("/admin/second-factor/enrol/", {"code": "000000"})
    assert "That code is not right" in wrong.content.decode()
    codes: list[str] = []

    def enrolled() -> bool:
        # Retried only should the code's 30 s step turn between computing and checking it.
        done = client.post("/admin/second-factor/enrol/", {"code": totp_code(secret)})
        codes.extend(re.findall(r"<li><code>([a-z0-9]+)</code></li>", done.content.decode()))
        return bool(codes)

    wait_until(enrolled, 10, interval=1.0, what="the enrolment to accept the right code")
    assert len(codes) == 10
    assert client.get("/admin/moderation/report/queue/").status_code == 200

    # The next login asks for a code; a recovery code works once.
    client.logout()
    password_login(client)
    assert client.get("/admin/").url.startswith("/admin/second-factor/?")
    assert client.post("/admin/second-factor/", {"code": codes[0], "next": "/admin/"}).status_code == 302
    assert client.get("/admin/moderation/report/queue/").status_code == 200
    client.logout()
    password_login(client)
    reused = client.post("/admin/second-factor/", {"code": codes[0]})
    assert reused.status_code == 200 and "not right, or was already used" in reused.content.decode()
    assert client.get("/admin/").status_code == 302
    # Someone with the password alone cannot enrol a second device of their own.
    assert client.get("/admin/second-factor/enrol/").url.startswith("/admin/second-factor/?")


def test_wrong_codes_count_toward_the_address_lock_out(client, superuser, settings):
    settings.ADMIN_LOGIN = {"FAILURES": 3, "LOCKOUT": 60}
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "otp-lock"}}
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user=superuser, name="phone", confirmed=True)
    password_login(client)
    for _ in range(3):
        client.post("/admin/second-factor/", {"code": "123456"}, REMOTE_ADDR=GUESSER)
    locked = client.post("/admin/second-factor/", {"code": "123456"}, REMOTE_ADDR=GUESSER)
    assert "Too many wrong codes" in locked.content.decode()
    assert "Too many failed logins" in login(client.__class__(), PASSWORD, GUESSER).content.decode()


def test_staff_who_only_read_statistics_need_no_second_factor(client):
    User.objects.create_user("ops", password=PASSWORD, is_staff=True)
    assert login(client, PASSWORD, COLLEAGUE).status_code == 302
    assert client.get("/admin/").status_code == 200
