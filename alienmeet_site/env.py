"""Typed readers for the environment variables the settings are built from.

Every reader raises ImproperlyConfigured naming the variable, so a typo in a
deployment fails at start-up with a message that says what to fix.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from transport.shared_state import CHANNEL_LAYERS, backend_for

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})

# Used only while DJANGO_DEBUG is on, so a developer needs no set-up; a
# production process refuses to start without its own key.
DEVELOPMENT_SECRET_KEY = "django-insecure-development-only-never-use-in-production"  # noqa: S105


def env_bool(name: str, default: bool, environ: Mapping[str, str] = os.environ) -> bool:
    raw = environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}.")


def env_list(name: str, default: list[str], environ: Mapping[str, str] = os.environ) -> list[str]:
    raw = environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_networks(name: str, environ: Mapping[str, str] = os.environ) -> list[str]:
    """A comma-separated list of IP addresses or networks (CIDR)."""
    entries = env_list(name, [], environ)
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ImproperlyConfigured(f"{name} must list IP addresses or networks; {entry!r} is neither.") from None
    return entries


def env_number(
    name: str,
    default: float,
    environ: Mapping[str, str] = os.environ,
    *,
    minimum: float = 0,
) -> float:
    raw = environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number; got {raw!r}.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}; got {raw!r}.")
    return value


def secret_key(debug: bool, environ: Mapping[str, str] = os.environ) -> str:
    key = environ.get("DJANGO_SECRET_KEY", "").strip()
    if key:
        return key
    if debug:
        return DEVELOPMENT_SECRET_KEY
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off "
        "(generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))')."
    )


def database(base_dir: os.PathLike[str], environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    url = environ.get("DATABASE_URL", "").strip()
    if not url:
        config: dict[str, Any] = {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.fspath(base_dir) + "/db.sqlite3",
        }
    else:
        try:
            config = dict(dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True))
        except ValueError as error:
            raise ImproperlyConfigured(f"DATABASE_URL is not a database URL Django understands: {error}") from None
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # Several server processes may write at once: take the write lock when a transaction
        # starts (no deadlocked upgrade from reading) and wait for it rather than fail.
        config["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20, **config.get("OPTIONS", {})}
    return config


def redis_prefix(environ: Mapping[str, str] = os.environ) -> str:
    """Namespace for every Redis key the site writes, so several sites (or test runs) can share one server."""
    return environ.get("REDIS_PREFIX", "").strip() or "alienmeet:"


def _redis_url(name: str, url: str) -> str:
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(f"{name} must start with redis://, rediss:// or unix://; got {url!r}.")
    return url


def channel_layers(environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    url = environ.get("REDIS_URL", "").strip()
    if not url:
        return {"default": {"BACKEND": CHANNEL_LAYERS[backend_for(url)]}}
    _redis_url("REDIS_URL", url)
    # Several servers: channels_redis spreads the channels over them by a hash of each name.
    shards = [u.strip() for u in environ.get("CHANNEL_REDIS_URLS", "").split(",") if u.strip()] or [url]
    return {
        "default": {
            "BACKEND": CHANNEL_LAYERS[backend_for(url)],
            "CONFIG": {
                # redis-py refuses, rather than waits, past its pool size (100 by
                # default), and every connected socket may touch Redis at once.
                "hosts": [
                    {"address": _redis_url("CHANNEL_REDIS_URLS", shard), "max_connections": 1024} for shard in shards
                ],
                "prefix": redis_prefix(environ) + "asgi",
            },
        }
    }


def match_redis_url(environ: Mapping[str, str] = os.environ) -> str:
    """The Redis holding the matchmaking state: REDIS_URL unless MATCH_REDIS_URL gives it one of its own."""
    url = environ.get("REDIS_URL", "").strip()
    own = environ.get("MATCH_REDIS_URL", "").strip()
    return _redis_url("MATCH_REDIS_URL", own) if url and own else url
