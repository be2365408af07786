"""Staff logins for tests: a staff member who may see evidence or decide needs a verified second factor."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import subprocess
import sys
import time
from typing import Any

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.servers import ROOT


def verified_login(client: Client, user: Any) -> TOTPDevice:
    """Log ``user`` in as if they had typed their password and a right code (django-otp's session key)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
        user=user, name="tests", confirmed=True
    )
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device


def totp_code(secret_base32: str, at: float | None = None, step: int = 30) -> str:
    """RFC 6238 computed here, not by the library under test."""
    key = base64.b32decode(secret_base32 + "=" * (-len(secret_base32) % 8))
    counter = struct.pack(">Q", int((time.time() if at is None else at) // step))
    digest = hmac.new(key, counter, hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


def browser_login(page: Any, username: str, password: str, secret: str | None = None) -> str:
    """Log in through the admin's pages: the password, then the second factor; enrols when the account has
    none yet (the secret read from the enrolment page). Returns the TOTP secret, for a later login."""
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    if "/admin/second-factor/enrol/" in page.url:
        secret = page.locator("#totp-secret").inner_text().strip()
        page.get_by_label("Code").fill(totp_code(secret))
        page.get_by_role("button", name="Confirm").click()
        page.locator("#recovery-codes").wait_for()
        page.get_by_role("link", name="Continue").click()
    elif "/admin/second-factor/" in page.url:
        assert secret, "this account has a second factor: pass its secret"
        page.get_by_label("Code").fill(totp_code(secret))
        page.get_by_role("button", name="Verify", exact=True).click()
    page.wait_for_load_state()
    return secret or ""


def create_superuser(environ: dict[str, str], username: str, password: str) -> None:
    """A superuser made as an operator makes the first one: on the command line, with no second factor yet."""
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "createsuperuser",
            "--no-input",
            "--username",
            username,
            "--email",
            f"{username}@example.com",
        ],
        cwd=ROOT,
        env={**environ, "DJANGO_SUPERUSER_PASSWORD": password},
        check=True,
        capture_output=True,
        timeout=60,
    )
