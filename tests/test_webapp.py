"""The installable app: the manifest, the service worker script and the offline page."""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path

import pytest
from django.utils.translation import get_language

from alienmeet_site import webapp

pytestmark = pytest.mark.django_db

STATIC = Path(__file__).resolve().parent.parent / "static"
FORBIDDEN = ("/admin/", "/ws/", "/metrics", "/healthz", "/i18n/")


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">II", header[16:24])


def worker_config(client) -> dict:
    script = client.get("/sw.js").content.decode()
    match = re.search(r"^const CONFIG = (\{.*?^\});$", script, re.S | re.M)
    assert match, script[:300]
    return json.loads(match.group(1))


def test_every_page_links_the_manifest_and_registers_the_worker(client):
    for url in ("/", "/articles/", "/articles/how-webrtc-works/", "/meet/", "/no-such-page/"):
        html = client.get(url).content.decode()
        assert '<link rel="manifest" href="/manifest.webmanifest" crossorigin="use-credentials">' in html, url
        assert re.search(r'<script src="/static/js/install\.js" data-worker="/sw\.js" defer>', html), url


def test_manifest_makes_the_call_page_an_installable_app(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    # Its words follow the language cookie too: a shared cache must not hand one visitor's to another.
    assert {"Accept-Language", "Cookie"} <= {name.strip() for name in response["Vary"].split(",")}
    manifest = json.loads(response.content)
    assert manifest["name"].startswith("AlienMeet") and manifest["short_name"] == "AlienMeet"
    assert manifest["start_url"] == "/meet/" and manifest["scope"] == "/"
    assert manifest["display"] == "standalone"
    assert manifest["theme_color"] == manifest["background_color"] == "#0b1026"
    assert manifest["lang"] == "en" and manifest["dir"] == "ltr"
    sizes = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).status_code == 200, icon
        if icon["type"] == "image/png":
            side = int(icon["sizes"].split("x")[0])
            assert png_size(STATIC / icon["src"].removeprefix("/static/")) == (side, side), icon


def test_manifest_speaks_the_visitors_language(client, settings, monkeypatch):
    settings.LANGUAGES = [("en", "English"), ("es", "Español"), ("ar", "العربية")]
    if "django.middleware.locale.LocaleMiddleware" not in settings.MIDDLEWARE:
        settings.MIDDLEWARE = [*settings.MIDDLEWARE, "django.middleware.locale.LocaleMiddleware"]
    # Whatever the catalogs hold, every visible string is looked up in the visitor's language.
    monkeypatch.setattr(webapp, "gettext", lambda text: f"[{get_language()}] {text}")
    arabic = json.loads(client.get("/manifest.webmanifest", headers={"accept-language": "ar"}).content)
    assert arabic["lang"] == "ar" and arabic["dir"] == "rtl"
    for text in (arabic["name"], arabic["short_name"], arabic["description"], arabic["shortcuts"][0]["name"]):
        assert text.startswith("[ar] "), text
    spanish = json.loads(client.get("/manifest.webmanifest", headers={"accept-language": "es-MX,es;q=0.9"}).content)
    assert spanish["lang"] == "es" and spanish["dir"] == "ltr" and spanish["name"].startswith("[es] ")


def test_manifest_is_translated_from_the_catalogs(client):
    spanish = json.loads(client.get("/manifest.webmanifest", headers={"accept-language": "es"}).content)
    assert spanish["name"] == "AlienMeet: sin fronteras. Solo personas."
    assert spanish["shortcuts"][1]["name"] == "Artículos"
    arabic = json.loads(client.get("/manifest.webmanifest", headers={"accept-language": "ar"}).content)
    assert arabic["lang"] == "ar" and arabic["dir"] == "rtl"
    assert arabic["shortcuts"][0]["name"] == "تحدّث مع الفضائيين"
    hindi = client.get("/offline/", headers={"accept-language": "hi"}).content.decode()
    assert "आप ऑफ़लाइन हैं" in hindi


def test_service_worker_is_served_for_the_whole_site(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["Service-Worker-Allowed"] == "/"
    assert response["Cache-Control"] == "no-cache"
    assert client.post("/sw.js").status_code == 405
    csp = client.get("/").headers["Content-Security-Policy"]
    assert "manifest-src 'self'" in csp and "worker-src 'self'" in csp


def test_service_worker_keeps_the_shell_and_articles_and_nothing_private(client):
    config = worker_config(client)
    assert "/static/css/site.css" in config["shell"] and "/static/js/call.js" in config["shell"]
    assert "/static/img/icons/icon-192.png" in config["shell"]
    assert not any("live_stats" in url for url in config["shell"])  # staff only
    assert "/articles/how-webrtc-works/" in config["pages"] and "/articles/privacy/" in config["pages"]
    assert config["offline"] == "/offline/"
    for url in [*config["shell"], *config["pages"], config["offline"], *config["cachedPages"]]:
        assert not url.startswith(FORBIDDEN), url
    assert set(FORBIDDEN) <= set(config["neverCached"])
    assert not any(page.startswith(tuple(config["neverCached"])) for page in config["cachedPagePrefixes"])


def test_service_worker_follows_the_hashed_static_names(client, monkeypatch):
    before = worker_config(client)
    monkeypatch.setattr(webapp.staticfiles_storage, "url", lambda name: f"/static/{name}.0123456789ab")
    after = worker_config(client)
    assert "/static/css/site.css.0123456789ab" in after["shell"]
    assert after["version"] != before["version"]  # a deployment installs a new worker


def test_offline_page(client):
    response = client.get("/offline/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "You are offline" in html and 'href="/articles/"' in html and "noindex" in html
