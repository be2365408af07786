from __future__ import annotations

import datetime

from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from articles.loader import Article, articles_for, translations


class ArticleSitemap(Sitemap):
    """Every article at its shared address (which follows the visitor's language)."""

    changefreq = "monthly"
    priority = 0.6

    def items(self) -> list[Article]:
        return articles_for("en")

    def lastmod(self, item: Article) -> datetime.date | None:
        return item.date


class ArticleVersionSitemap(Sitemap):
    """Every language version of every article at its own address (``/articles/es/privacy/``)."""

    changefreq = "monthly"
    priority = 0.5

    def items(self) -> list[Article]:
        return [version for article in articles_for("en") for version in translations(article.slug)]

    def location(self, item: Article) -> str:
        return item.get_language_url()

    def lastmod(self, item: Article) -> datetime.date | None:
        return item.date


class PageSitemap(Sitemap):
    """The site's fixed pages, by URL name."""

    changefreq = "weekly"
    priority = 1.0

    def items(self) -> list[str]:
        return ["home", "meet:call", "articles:list"]

    def location(self, item: str) -> str:
        return reverse(item)
