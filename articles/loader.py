"""File-backed articles: every ``*.md`` in ``settings.ARTICLES_DIR`` is one article.

English files live at the top (``content/<slug>.md``); a translation lives in a
folder named after its language code from ``settings.LANGUAGES``
(``content/es/<slug>.md``, ``content/pt-br/<slug>.md``). Versions of one article
share the slug.

The directory is the only source of truth. Each file is parsed and rendered
once and kept until its modification time or size changes, so editing an
article shows on the next request without a restart.
"""

from __future__ import annotations

import datetime
import logging
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import frontmatter
import yaml
from django.conf import settings
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import get_language_info

from articles.rendering import Rendered, render_markdown

logger = logging.getLogger("alienmeet.articles")

SLUG_RE = re.compile(r"^[-a-zA-Z0-9_]+$")
# The language of the files at the top of ARTICLES_DIR, and the fallback for a missing translation.
ORIGINAL_LANGUAGE = "en"
TEXT_FIELDS = {"author": "author", "description": "description", "oneLiner": "one_liner"}


@dataclass(frozen=True)
class Tag:
    name: str
    slug: str

    def get_absolute_url(self) -> str:
        return reverse("articles:tag", args=[self.slug])


@dataclass(frozen=True)
class Article:
    slug: str
    title: str
    rendered: Rendered
    author: str = ""
    date: datetime.date | None = None
    tags: tuple[Tag, ...] = ()
    index: int | None = None
    description: str = ""
    one_liner: str = ""
    language: str = ORIGINAL_LANGUAGE

    @property
    def language_name(self) -> str:
        """The language's own name for itself, as the switcher shows it."""
        return dict(settings.LANGUAGES).get(self.language) or str(get_language_info(self.language)["name_local"])

    @property
    def direction(self) -> str:
        return "rtl" if get_language_info(self.language)["bidi"] else "ltr"

    @property
    def html(self) -> str:
        return self.rendered.html

    @property
    def toc_html(self) -> str:
        return self.rendered.toc_html

    @property
    def reading_minutes(self) -> int:
        return self.rendered.reading_minutes

    @property
    def summary(self) -> str:
        return self.description or self.one_liner

    def get_absolute_url(self) -> str:
        """The address every version shares: it shows the visitor's language when it exists."""
        return reverse("articles:detail", args=[self.slug])

    def get_language_url(self) -> str:
        """The address of this version only (the one hreflang alternates and the sitemap name)."""
        return reverse("articles:detail-in", args=[self.language, self.slug])


@dataclass(frozen=True)
class ArticleProblem:
    """Why one file could not become an article."""

    path: Path
    message: str
    field: str | None = None

    @property
    def name(self) -> str:
        """The file as the author knows it: ``privacy.md``, or ``es/privacy.md`` for a translation."""
        language = self.path.parent.name
        return f"{language}/{self.path.name}" if language in _translation_languages() else self.path.name

    @property
    def url(self) -> str:
        language = self.path.parent.name
        if language in _translation_languages():
            return f"/articles/{language}/{self.path.stem}/"
        return f"/articles/{self.path.stem}/"

    def __str__(self) -> str:
        where = f" (field {self.field!r})" if self.field else ""
        return f"{self.name}{where}: {self.message}"


class InvalidArticle(ValueError):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass
class _Cache:
    lock: threading.Lock = field(default_factory=threading.Lock)
    # path -> ((mtime_ns, size), parsed result)
    entries: dict[Path, tuple[tuple[int, int], Article | ArticleProblem]] = field(default_factory=dict)


_cache = _Cache()


def _text(meta: dict[str, Any], key: str) -> str:
    value = meta.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidArticle(f"must be text, got {type(value).__name__}", key)
    return value.strip()


def _date(meta: dict[str, Any]) -> datetime.date | None:
    value = meta.get("date")
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InvalidArticle(f"must be a date like 2026-11-24, got {value!r}", "date")


def _index(meta: dict[str, Any]) -> int | None:
    value = meta.get("index")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArticle(f"must be a whole number, got {value!r}", "index")
    return value


def _tags(meta: dict[str, Any]) -> tuple[Tag, ...]:
    value = meta.get("tags")
    if value is None:
        return ()
    if isinstance(value, str):
        names = value.split(",")
    elif isinstance(value, list) and all(isinstance(item, str | int | float) for item in value):
        names = [str(item) for item in value]
    else:
        raise InvalidArticle("must be a comma-separated string or a list of words", "tags")
    tags: dict[str, Tag] = {}
    for name in (name.strip() for name in names):
        slug = slugify(name, allow_unicode=True)
        if slug and slug not in tags:
            tags[slug] = Tag(name=name, slug=slug)
    return tuple(tags.values())


def parse_article(path: Path, language: str = ORIGINAL_LANGUAGE) -> Article:
    """Read one file; raise InvalidArticle (with the field at fault) if it cannot be shown."""
    slug = path.stem
    if not SLUG_RE.match(slug):
        raise InvalidArticle("file name must use only letters, digits, '-' and '_'")
    try:
        post = frontmatter.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise InvalidArticle("file is not UTF-8 text") from None
    except yaml.YAMLError as error:
        raise InvalidArticle(f"front matter is not valid YAML: {error}".splitlines()[0], "front matter") from None
    meta = post.metadata
    if not isinstance(meta, dict):
        raise InvalidArticle("front matter must be a mapping of fields", "front matter")
    title = _text(meta, "title")
    if not title:
        raise InvalidArticle("is required", "title")
    texts = {attr: _text(meta, key) for key, attr in TEXT_FIELDS.items()}
    return Article(
        slug=slug,
        title=title,
        rendered=render_markdown(post.content, language),
        date=_date(meta),
        tags=_tags(meta),
        index=_index(meta),
        language=language,
        **texts,
    )


def _load(path: Path, language: str) -> Article | ArticleProblem:
    try:
        stat = path.stat()
    except OSError as error:
        return ArticleProblem(path, f"cannot be read: {error.strerror}")
    version = (stat.st_mtime_ns, stat.st_size)
    with _cache.lock:
        cached = _cache.entries.get(path)
    if cached and cached[0] == version:
        return cached[1]
    result: Article | ArticleProblem
    try:
        result = parse_article(path, language)
    except InvalidArticle as error:
        result = ArticleProblem(path, str(error), error.field)
        logger.warning("article %s is not shown: %s", result.name, result)
    except OSError as error:
        result = ArticleProblem(path, f"cannot be read: {error.strerror}")
        logger.warning("article %s is not shown: %s", result.name, result)
    with _cache.lock:
        _cache.entries[path] = (version, result)
    return result


def _translation_languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES if code != ORIGINAL_LANGUAGE]


def _files(directory: Path) -> list[Path]:
    try:
        return sorted(p for p in directory.glob("*.md") if p.is_file())
    except OSError:
        return []


def _scan() -> list[Article | ArticleProblem]:
    directory = Path(settings.ARTICLES_DIR)
    found = [(path, ORIGINAL_LANGUAGE) for path in _files(directory)]
    for language in _translation_languages():
        found += [(path, language) for path in _files(directory / language)]
    results = [_load(path, language) for path, language in found]
    with _cache.lock:
        for gone in set(_cache.entries) - {path for path, _language in found}:
            del _cache.entries[gone]
    return results


def _order(article: Article) -> tuple[bool, int, int, str]:
    newest_first = -article.date.toordinal() if article.date else 0
    return (article.index is None, article.index or 0, newest_first, article.title.casefold())


def _versions() -> list[Article]:
    return [item for item in _scan() if isinstance(item, Article)]


def all_articles() -> list[Article]:
    """Every good article in English, the original language: by ``index``, then date (newest first), then title."""
    return articles_in(ORIGINAL_LANGUAGE)


def articles_in(language: str) -> list[Article]:
    """The good articles written in ``language``, in list order."""
    return sorted((a for a in _versions() if a.language == language), key=_order)


def _preferred(versions: list[Article], language: str) -> Article:
    by_language = {a.language: a for a in versions}
    return by_language.get(language) or by_language.get(ORIGINAL_LANGUAGE) or versions[0]


def articles_for(language: str) -> list[Article]:
    """One version of every article: in ``language`` when it exists, else English (else whichever exists)."""
    by_slug: dict[str, list[Article]] = {}
    for article in _versions():
        by_slug.setdefault(article.slug, []).append(article)
    return sorted((_preferred(versions, language) for versions in by_slug.values()), key=_order)


def translations(slug: str) -> list[Article]:
    """Every good version of one article, in the order of ``settings.LANGUAGES``."""
    order = [code for code, _name in settings.LANGUAGES]
    versions = [a for a in _versions() if a.slug == slug]
    return sorted(versions, key=lambda a: order.index(a.language) if a.language in order else len(order))


def problems() -> list[ArticleProblem]:
    return [item for item in _scan() if isinstance(item, ArticleProblem)]


def get_article(slug: str, language: str = ORIGINAL_LANGUAGE) -> Article | None:
    # Looked up among the scanned files, never joined onto a path, so no slug
    # can name a file outside ARTICLES_DIR.
    return next((a for a in _versions() if a.slug == slug and a.language == language), None)


def articles_tagged(tag_slug: str, language: str = ORIGINAL_LANGUAGE) -> tuple[Tag | None, list[Article]]:
    """Articles carrying the tag in some version, each shown in ``language`` when that version has the tag too."""
    by_slug: dict[str, list[Article]] = {}
    for article in _versions():
        if any(t.slug == tag_slug for t in article.tags):
            by_slug.setdefault(article.slug, []).append(article)
    matching = sorted((_preferred(versions, language) for versions in by_slug.values()), key=_order)
    tag = next((t for t in matching[0].tags if t.slug == tag_slug), None) if matching else None
    return tag, matching
