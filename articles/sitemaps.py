from __future__ import annotations

import datetime

from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from articles.loader import Article, all_articles


class ArticleSitemap(Sitemap):
    changefreq = "monthly"
    priority = 0.6

    def items(self) -> list[Article]:
        return all_articles()

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
