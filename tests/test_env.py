import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from alienmeet_site import env
from conftest import require

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("True", True), ("on", True), ("0", False), ("no", False)])
def test_env_bool(raw, expected):
    assert env.env_bool("DJANGO_DEBUG", not expected, {"DJANGO_DEBUG": raw}) is expected


def test_env_bool_rejects_nonsense_naming_the_variable():
    with pytest.raises(ImproperlyConfigured, match="DJANGO_DEBUG"):
        env.env_bool("DJANGO_DEBUG", False, {"DJANGO_DEBUG": "maybe"})


def test_env_list_splits_and_trims():
    assert env.env_list("H", ["x"], {"H": " a.example , b.example,, "}) == ["a.example", "b.example"]
    assert env.env_list("H", ["x"], {}) == ["x"]


def test_env_number_checks_type_and_minimum():
    assert env.env_number("N", 5, {"N": "2.5"}) == 2.5
    assert env.env_number("N", 5, {}) == 5
    with pytest.raises(ImproperlyConfigured, match="N must be a number"):
        env.env_number("N", 5, {"N": "five"})
    with pytest.raises(ImproperlyConfigured, match="N must be at least 1"):
        env.env_number("N", 5, {"N": "0"}, minimum=1)


def test_secret_key_required_without_debug():
    with pytest.raises(ImproperlyConfigured, match="DJANGO_SECRET_KEY"):
        env.secret_key(False, {})
    assert env.secret_key(False, {"DJANGO_SECRET_KEY": "abc"}) == "abc"
    assert env.secret_key(True, {}) == env.DEVELOPMENT_SECRET_KEY


def test_database_defaults_to_sqlite_and_reads_url(tmp_path):
    assert env.database(tmp_path, {})["ENGINE"] == "django.db.backends.sqlite3"
    config = env.database(tmp_path, {"DATABASE_URL": "postgres://alien:pw@db.internal:5433/meet"})
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["PORT"], config["NAME"], config["USER"]) == ("db.internal", 5433, "meet", "alien")
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        env.database(tmp_path, {"DATABASE_URL": "nosuchdb://x"})


def test_channel_layer_follows_redis_url():
    assert env.channel_layers({})["default"]["BACKEND"] == "transport.memory_layer.SweepingInMemoryChannelLayer"
    layer = env.channel_layers({"REDIS_URL": "redis://127.0.0.1:6379/3"})["default"]
    assert layer["BACKEND"] == "transport.layer.ResilientRedisChannelLayer"
    assert layer["CONFIG"]["hosts"][0]["address"] == "redis://127.0.0.1:6379/3"
    with pytest.raises(ImproperlyConfigured, match="REDIS_URL"):
        env.channel_layers({"REDIS_URL": "127.0.0.1:6379"})


def test_channel_layer_shards_and_matchmaking_redis_of_its_own():
    sharded = env.channel_layers(
        {"REDIS_URL": "redis://a:6379/0", "CHANNEL_REDIS_URLS": "redis://b:6379/0, redis://c:6379/0"}
    )["default"]
    assert [host["address"] for host in sharded["CONFIG"]["hosts"]] == ["redis://b:6379/0", "redis://c:6379/0"]
    with pytest.raises(ImproperlyConfigured, match="CHANNEL_REDIS_URLS"):
        env.channel_layers({"REDIS_URL": "redis://a:6379/0", "CHANNEL_REDIS_URLS": "b:6379"})
    assert env.match_redis_url({"REDIS_URL": "redis://a:6379/0"}) == "redis://a:6379/0"
    assert env.match_redis_url({"REDIS_URL": "redis://a:6379/0", "MATCH_REDIS_URL": "redis://m:6379/1"}) == (
        "redis://m:6379/1"
    )
    # Without REDIS_URL the site runs on one process in memory, whatever else is set.
    assert env.match_redis_url({"MATCH_REDIS_URL": "redis://m:6379/1"}) == ""
    with pytest.raises(ImproperlyConfigured, match="MATCH_REDIS_URL"):
        env.match_redis_url({"REDIS_URL": "redis://a:6379/0", "MATCH_REDIS_URL": "m:6379"})


def _django_setup(
    extra: dict[str, str],
    code: str = "import django; django.setup(); from django.conf import settings; print(settings.ARTICLES_DIR)",
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))}
    environ.update({"DJANGO_SETTINGS_MODULE": "alienmeet_site.settings", **extra})
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60, check=False
    )


def test_production_start_without_secret_key_names_the_variable():
    result = _django_setup({"DJANGO_DEBUG": "0"})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off" in result.stderr


@pytest.mark.parametrize(("served_by", "with_daphne"), [("", True), ("uvicorn", False)], ids=["runserver", "uvicorn"])
def test_daphne_is_loaded_only_in_a_process_it_serves(served_by, with_daphne):
    """`manage.py runserver` serves ASGI and WebSocket through the daphne app; a process that
    alienmeet_site/serve.py starts under uvicorn (or granian) loads neither it nor Twisted's reactor."""
    code = (
        "import sys, alienmeet_site.asgi; from django.conf import settings; "
        "print(settings.INSTALLED_APPS[0] == 'daphne', 'twisted.internet.reactor' in sys.modules)"
    )
    result = _django_setup({"DJANGO_SECRET_KEY": "test-key", "ALIENMEET_SERVED_BY": served_by}, code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(with_daphne), str(with_daphne)]


def test_articles_dir_defaults_to_content_and_can_be_moved(tmp_path):
    assert _django_setup({"DJANGO_DEBUG": "1"}).stdout.strip() == str(ROOT / "content")
    assert _django_setup({"DJANGO_DEBUG": "1", "ARTICLES_DIR": str(tmp_path)}).stdout.strip() == str(tmp_path)


def _postgres_up() -> bool:
    try:
        import psycopg

        psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", connect_timeout=3).close()
    except Exception:
        return False
    return True


def test_postgresql_works_through_database_url():
    require(_postgres_up(), "PostgreSQL at 127.0.0.1:5432")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "alienmeet_site.settings",
            "DJANGO_DEBUG": "1",
            "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/test",
        }
    )
    code = (
        "import django; django.setup(); from django.db import connection; "
        "cur = connection.cursor(); cur.execute('select 41 + 1'); print(connection.vendor, cur.fetchone()[0])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.stdout.strip() == "postgresql 42", result.stderr


def test_trusted_proxies_must_be_addresses():
    assert env.env_networks("P", {"P": "127.0.0.1, 10.0.0.0/8, ::1"}) == ["127.0.0.1", "10.0.0.0/8", "::1"]
    with pytest.raises(ImproperlyConfigured, match="TRUSTED_PROXIES"):
        env.env_networks("TRUSTED_PROXIES", {"TRUSTED_PROXIES": "proxy.internal"})


def test_the_report_block_cannot_be_switched_off():
    """A reported stranger is never paired with the reporter again: 0 would silently break that promise."""
    result = _django_setup({"DJANGO_DEBUG": "1", "MATCH_REPORT_BLOCK": "0"})
    assert result.returncode != 0
    assert "MATCH_REPORT_BLOCK must be at least 1" in result.stderr
