"""AlienMeet settings, read from the environment (see README "Configuration").

With nothing set, the site runs on one process with SQLite and the in-memory
channel layer; DATABASE_URL and REDIS_URL move it onto PostgreSQL and Redis.
"""

from __future__ import annotations

import os
from pathlib import Path

from alienmeet_site import env
from transport.shared_state import backend_for

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env.env_bool("DJANGO_DEBUG", False)
SECRET_KEY = env.secret_key(DEBUG)
ALLOWED_HOSTS = env.env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

# The ASGI server that runs this process, as alienmeet_site/serve.py names it ("" for manage.py).
SERVED_BY = os.environ.get("ALIENMEET_SERVED_BY", "")

INSTALLED_APPS = [
    # daphne first, so `manage.py runserver` serves ASGI and WebSocket. A process that uvicorn or
    # granian serves leaves it out: the app imports daphne's server, which installs Twisted's reactor
    # in the process (half a second of CPU at every start, and memory kept for nothing).
    *(["daphne"] if SERVED_BY in ("", "daphne") else []),
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "channels",
    # Staff who may see evidence or decide log in with a second factor (moderation/second_factor.py).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    "articles",
    "meet",
    "callstats",
    "turn",
    "moderation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "alienmeet_site.security.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After sessions, before common: the language comes from the cookie or Accept-Language.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "moderation.second_factor.SecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# Served over HTTPS (behind a proxy that terminates TLS and sets X-Forwarded-Proto):
# on by default whenever debug is off.
HTTPS = env.env_bool("DJANGO_HTTPS", not DEBUG)
if HTTPS:
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(env.env_number("DJANGO_HSTS_SECONDS", 31536000))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.env_bool("DJANGO_HSTS_PRELOAD", True)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

ROOT_URLCONF = "alienmeet_site.urls"
ASGI_APPLICATION = "alienmeet_site.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.database(BASE_DIR)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
CHANNEL_LAYERS = env.channel_layers()
REDIS_URL = os.environ.get("REDIS_URL", "").strip()

# Matchmaking state: in this process's memory, or in Redis shared by every process.
MATCHMAKER = {
    "BACKEND": backend_for(REDIS_URL),
    "URL": env.match_redis_url(),
    "PREFIX": env.redis_prefix(),
    # A visitor with interests waits this long for someone sharing one, then takes anyone.
    "INTEREST_WAIT": env.env_number("MATCH_INTEREST_WAIT", 5),
    # Two people who parted with Next are not paired again this soon while anyone else waits.
    "REMATCH_COOLDOWN": env.env_number("MATCH_REMATCH_COOLDOWN", 60),
    # Someone who reported a stranger is never paired with that address again for this long (30 days).
    # Never 0: "never paired again with someone you reported" is a promise, not an option.
    "REPORT_BLOCK": env.env_number("MATCH_REPORT_BLOCK", 30 * 24 * 3600, minimum=1),
    # A server process that misses its heartbeat this long is presumed dead and its peers reaped.
    "LEASE": env.env_number("MATCH_LEASE", 5, minimum=1),
}

# Addresses (or networks) of reverse proxies whose X-Forwarded-For is believed.
TRUSTED_PROXIES = env.env_networks("TRUSTED_PROXIES")
# Bearer token for /metrics; unset, the endpoint answers 404.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "").strip()

# What the signaling consumer allows one connection and hands the browser for ICE.
MEET = {
    "STUN_URLS": env.env_list("STUN_URLS", []),
    "TURN_URLS": env.env_list("TURN_URLS", []),
    "TURN_SECRET": os.environ.get("TURN_SECRET", ""),
    # Lifetime of a TURN credential; a new one comes with every match, and coturn checks it only
    # when a relay is allocated, so it need only cover setting up a call.
    "TURN_TTL": int(env.env_number("TURN_TTL", 300, minimum=30)),
    "RATE_PER_SECOND": env.env_number("MEET_RATE_PER_SECOND", 25, minimum=1),
    "RATE_BURST": env.env_number("MEET_RATE_BURST", 50, minimum=1),
    # Frames refused by the rate limit within 10 seconds before the connection is closed.
    "FLOOD_CLOSE_AFTER": int(env.env_number("MEET_FLOOD_CLOSE_AFTER", 100, minimum=1)),
    # Per address (an IPv6 /64 counts as one), across all processes; 0 turns a limit off. A family
    # or a small office shares one address: each open call page is one socket.
    "ADDRESS_MAX_CONNECTIONS": int(env.env_number("MEET_ADDRESS_MAX_CONNECTIONS", 20)),
    "ADDRESS_CONNECTS_PER_MINUTE": int(env.env_number("MEET_ADDRESS_CONNECTS_PER_MINUTE", 60)),
    # Next presses one connection may make per minute; more are refused with rate_limited.
    "NEXT_PER_MINUTE": int(env.env_number("MEET_NEXT_PER_MINUTE", 30, minimum=1)),
    # Seconds a call's side is held for its browser to come back on a new socket (docs/protocol.md).
    "RESUME_GRACE": env.env_number("MEET_RESUME_GRACE", 10, minimum=0),
}

# Admission to the queue: the rules the visitor accepted, and an ALTCHA proof of work.
ADMISSION = {
    # The one place the rules' version lives (content/rules.md is their text); change it and
    # every visitor is asked to accept them again.
    "RULES_VERSION": os.environ.get("MEET_RULES_VERSION", "").strip() or "2026-11-27",
    # HMAC key that signs challenges; unset, one is derived from DJANGO_SECRET_KEY.
    "POW_HMAC_KEY": os.environ.get("ALTCHA_HMAC_KEY", "").strip(),
    # Largest secret number of a challenge: a browser tries half of them on average.
    "POW_MAX_NUMBER": int(env.env_number("MEET_POW_MAX_NUMBER", 100_000, minimum=10)),
    # The difficulty for an address that opened more than POW_BUSY_CONNECTS connections
    # within POW_BUSY_WINDOW seconds.
    "POW_BUSY_MAX_NUMBER": int(env.env_number("MEET_POW_BUSY_MAX_NUMBER", 1_000_000, minimum=10)),
    "POW_BUSY_CONNECTS": int(env.env_number("MEET_POW_BUSY_CONNECTS", 20, minimum=1)),
    "POW_BUSY_WINDOW": int(env.env_number("MEET_POW_BUSY_WINDOW", 60, minimum=1)),
    # Seconds a challenge stays valid.
    "POW_EXPIRES": int(env.env_number("MEET_POW_EXPIRES", 600, minimum=10)),
}

# Reports and bans (the moderation app): throttle, automatic ban, and how long evidence and history are kept.
MODERATION = {
    # One reporter may file this many reports per window; more get rate_limited.
    "REPORTS_PER_REPORTER": int(env.env_number("MODERATION_REPORTS_PER_REPORTER", 5, minimum=1)),
    "REPORT_WINDOW": env.env_number("MODERATION_REPORT_WINDOW", 3600, minimum=1),
    # This many different reporters within the window ban an address at once, for AUTO_BAN_HOURS.
    "AUTO_BAN_REPORTERS": int(env.env_number("MODERATION_AUTO_BAN_REPORTERS", 3, minimum=2)),
    "AUTO_BAN_WINDOW": env.env_number("MODERATION_AUTO_BAN_WINDOW", 3600, minimum=1),
    "AUTO_BAN_HOURS": env.env_number("MODERATION_AUTO_BAN_HOURS", 24, minimum=1),
    # Retention (run by purge_stats): evidence, evidence after a decision, reports and decisions.
    "EVIDENCE_DAYS": int(env.env_number("REPORT_EVIDENCE_DAYS", 30, minimum=1)),
    "DECIDED_EVIDENCE_HOURS": env.env_number("REPORT_DECIDED_EVIDENCE_HOURS", 24, minimum=0),
    "HISTORY_DAYS": int(env.env_number("REPORT_HISTORY_DAYS", 180, minimum=1)),
}

# Shared by every process when the site runs on Redis (the admin login throttle counts here).
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.redis_prefix(),
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# The name authenticator apps show beside a staff member's code.
OTP_TOTP_ISSUER = "AlienMeet"
# Passkeys, as a second factor only (never instead of the throttled password), for this site's own hosts.
OTP_WEBAUTHN_RP_NAME = "AlienMeet"
OTP_WEBAUTHN_RP_ID_CALLABLE = "moderation.passkeys.relying_party_id"
OTP_WEBAUTHN_HELPER_CLASS = "moderation.passkeys.PasskeyHelper"
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
# Read by the package's start-up check only; each request is checked against its own (allowed) host.
OTP_WEBAUTHN_ALLOWED_ORIGINS = [
    f"https://{host}" for host in ALLOWED_HOSTS if host and host != "*" and not host.startswith(".")
] or ["http://localhost"]

# Wrong staff passwords (and second-factor codes) from one address before it is locked out, and for how long (seconds).
ADMIN_LOGIN = {
    "FAILURES": int(env.env_number("ADMIN_LOGIN_FAILURES", 5, minimum=1)),
    "LOCKOUT": int(env.env_number("ADMIN_LOGIN_LOCKOUT", 900, minimum=1)),
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# Every language the site, the call page and the About/Privacy articles speak (README "Languages").
# Names are the languages' own, as the switcher shows them.
LANGUAGES = [
    ("en", "English"),
    ("es", "Español"),
    ("pt-br", "Português (Brasil)"),
    ("fr", "Français"),
    ("hi", "हिन्दी"),
    ("ar", "العربية"),
    ("ru", "Русский"),
    ("id", "Bahasa Indonesia"),
    ("tr", "Türkçe"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["alienmeet_site.formats"]
# A year: the visitor's choice in the switcher outlives the browser session.
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
# Only the server reads it (the page states its language), and over HTTPS only when the site is.
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SECURE = HTTPS

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", "").strip() or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
# Serving straight from the finders keeps `collectstatic` optional for a single
# process; a deployment runs it, so pages link hashed, compressed, long-cached files.
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "alienmeet_site.static_storage.HashedStaticStorage"},
}

ARTICLES_DIR = Path(os.environ.get("ARTICLES_DIR", "").strip() or BASE_DIR / "content")

# Browser tests only: lets a test feed the nudity shield scores instead of running its model.
SHIELD_TEST_HOOK = env.env_bool("SHIELD_TEST_HOOK", False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "line": {"()": "alienmeet_site.logs.OneLineFormatter"},
    },
    "filters": {
        "redis_outage": {"()": "alienmeet_site.logs.RedisOutageFilter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "line", "filters": ["redis_outage"]},
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "alienmeet": {"level": os.environ.get("ALIENMEET_LOG_LEVEL", "INFO"), "propagate": True},
    },
}
