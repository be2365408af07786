from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path

from alienmeet_site import views
from articles.sitemaps import ArticleSitemap, PageSitemap

sitemaps = {"pages": PageSitemap, "articles": ArticleSitemap}

urlpatterns = [
    path("", views.home, name="home"),
    path("articles/", include("articles.urls")),
    path("meet/", include("meet.urls")),
    path("sitemap.xml", sitemap, {"sitemaps": sitemaps}, name="sitemap"),
    path("admin/", admin.site.urls),
]
