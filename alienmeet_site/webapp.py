"""The installable web app: its manifest, its service worker and the page shown offline.

The worker is rendered by Django rather than served as a static file for two reasons: it must live
at the site root so its scope covers every page, and the files it keeps for offline use have
content-hashed names that only the static storage knows.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language, get_language_bidi, gettext
from django.views.decorators.http import require_GET

from articles.loader import all_articles

THEME_COLOR = "#0b1026"
# Static files the worker keeps: the site's look, the call page's modules, the icons.
SHELL_SUFFIXES = (".css", ".js", ".svg", ".png", ".woff2")
# Not for visitors (staff pages) or too heavy to fetch on every install.
SHELL_EXCLUDED = ("vendor/", "css/live_stats.", "js/live_stats.")
# Articles fetched for offline reading when the worker installs; older ones are kept once read.
PRECACHED_ARTICLES = 20
# Paths the worker never answers from or stores in its cache: the signaling socket, staff pages,
# monitoring, the language switch (a POST) and anything of the worker's own.
NEVER_CACHED = ("/admin/", "/ws/", "/metrics", "/healthz", "/i18n/", "/sw.js", "/manifest.webmanifest")
# Pages (GET, no query string) kept as they are read, to be shown again offline.
CACHED_PAGE_PREFIXES = ("/articles/",)
CACHED_PAGES = ("/",)

ICONS = [
    {"src": "img/icons/icon-192.png", "sizes": "192x192", "type": "image/png", "purpose": "any"},
    {"src": "img/icons/icon-512.png", "sizes": "512x512", "type": "image/png", "purpose": "any"},
    {"src": "img/icons/maskable-192.png", "sizes": "192x192", "type": "image/png", "purpose": "maskable"},
    {"src": "img/icons/maskable-512.png", "sizes": "512x512", "type": "image/png", "purpose": "maskable"},
    {"src": "img/icons/icon.svg", "sizes": "any", "type": "image/svg+xml", "purpose": "any"},
]


@require_GET
def manifest(request: HttpRequest) -> HttpResponse:
    """The web app manifest, its words in the visitor's language."""
    data = {
        "id": "/",
        "name": gettext("AlienMeet: No borders. Just people."),
        # Translators: the app's name under its icon on a phone's home screen; keep it short.
        "short_name": gettext("AlienMeet"),
        "description": gettext("Meet a random stranger anywhere in the world, face to face, peer to peer."),
        "lang": get_language() or settings.LANGUAGE_CODE,
        "dir": "rtl" if get_language_bidi() else "ltr",
        "start_url": reverse("meet:call"),
        "scope": "/",
        "display": "standalone",
        "orientation": "any",
        "background_color": THEME_COLOR,
        "theme_color": THEME_COLOR,
        "categories": ["social"],
        "icons": [{**icon, "src": staticfiles_storage.url(icon["src"])} for icon in ICONS],
        "shortcuts": [
            {
                "name": gettext("Talk to Aliens"),
                "url": reverse("meet:call"),
                "icons": [{"src": staticfiles_storage.url("img/icons/icon-192.png"), "sizes": "192x192"}],
            },
            {
                "name": gettext("Articles"),
                "url": reverse("articles:list"),
                "icons": [{"src": staticfiles_storage.url("img/icons/icon-192.png"), "sizes": "192x192"}],
            },
        ],
    }
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json"
    # The language comes from the switcher's cookie as much as from Accept-Language.
    patch_vary_headers(response, ("Cookie",))
    return response


def shell_files() -> list[str]:
    """Names (relative to the static folders) of the site's own static files worth keeping offline."""
    names: set[str] = set()
    for directory in settings.STATICFILES_DIRS:
        root = Path(directory)
        for path in root.rglob("*"):
            name = path.relative_to(root).as_posix()
            if path.is_file() and name.endswith(SHELL_SUFFIXES) and not name.startswith(SHELL_EXCLUDED):
                names.add(name)
    return sorted(names)


def worker_config() -> dict[str, Any]:
    """What the worker keeps: hashed shell URLs, the newest articles, and the paths it stays away from."""
    newest = sorted(all_articles(), key=lambda a: a.date.toordinal() if a.date else 0, reverse=True)
    pages = [reverse("articles:list"), *(a.get_absolute_url() for a in newest[:PRECACHED_ARTICLES])]
    config: dict[str, Any] = {
        "shell": [staticfiles_storage.url(name) for name in shell_files()],
        "offline": reverse("offline"),
        "pages": pages,
        "cachedPages": list(CACHED_PAGES),
        "cachedPagePrefixes": list(CACHED_PAGE_PREFIXES),
        "neverCached": list(NEVER_CACHED),
    }
    # A new deployment (new hashes, new articles) changes the worker's bytes, so browsers install it
    # afresh and drop the old caches.
    config["version"] = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:12]
    return config


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    script = render_to_string("webapp/sw.js", {"config": json.dumps(worker_config(), indent=2)})
    response = HttpResponse(script, content_type="text/javascript; charset=utf-8")
    # Served from the root its scope is the whole site already; the header says so explicitly.
    response["Service-Worker-Allowed"] = "/"
    # Browsers check for a new worker on navigation; never let an HTTP cache hide one.
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def offline(request: HttpRequest) -> HttpResponse:
    return render(request, "webapp/offline.html")
