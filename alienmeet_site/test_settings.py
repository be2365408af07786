"""Settings for the test suite: the real settings plus a fixed key and a fast hasher."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-suite-key-only-used-by-pytest")
# The test client speaks plain HTTP; the production hardening is checked on its own.
os.environ.setdefault("DJANGO_HTTPS", "0")

from alienmeet_site.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Proofs of work the Python test clients solve in a blink.
ADMISSION = {**ADMISSION, "POW_MAX_NUMBER": 1000, "POW_BUSY_MAX_NUMBER": 2000}  # noqa: F405
