from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog, set_language

from alienmeet_site import health, views, webapp
from articles.sitemaps import ArticleSitemap, ArticleVersionSitemap, PageSitemap
from callstats import live
from moderation import second_factor
from moderation.login_throttle import ThrottledAdminLoginForm
from turn import health as turn_health

admin.site.login_form = ThrottledAdminLoginForm

sitemaps = {"pages": PageSitemap, "articles": ArticleSitemap, "translations": ArticleVersionSitemap}

urlpatterns = [
    path("", views.home, name="home"),
    path("articles/", include("articles.urls")),
    path("meet/", include("meet.urls")),
    # The language switcher posts here; the choice is kept in a cookie, URLs stay as they are.
    path("i18n/setlang/", set_language, name="set_language"),
    # The call page's strings in the visitor's language, for static/js/i18n.js.
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("sitemap.xml", sitemap, {"sitemaps": sitemaps}, name="sitemap"),
    path("admin/live-stats/", admin.site.admin_view(live.live_stats_page), name="live-stats"),
    path("admin/live-stats.json", live.live_stats_json, name="live-stats-json"),
    path("admin/turn-check.json", turn_health.turn_check_json, name="turn-check"),
    path("admin/second-factor/", admin.site.admin_view(second_factor.verify), name="second-factor-verify"),
    path("admin/second-factor/enrol/", admin.site.admin_view(second_factor.enrol), name="second-factor-enrol"),
    # django-otp-webauthn's JSON endpoints; it refuses a new passkey to an enrolled but unverified session.
    path("admin/second-factor/passkey/", include("django_otp_webauthn.urls", namespace="otp_webauthn")),
    path("admin/", admin.site.urls),
    path("metrics", live.metrics, name="metrics"),
    path("healthz", health.healthz, name="healthz"),
    # The installable app: at the root, so the worker's scope is the whole site.
    path("manifest.webmanifest", webapp.manifest, name="manifest"),
    path("sw.js", webapp.service_worker, name="service-worker"),
    path("offline/", webapp.offline, name="offline"),
]
