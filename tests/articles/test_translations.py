"""Articles in several languages: content/<lang>/<slug>.md beside the English content/<slug>.md."""

from __future__ import annotations

import logging
import textwrap
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from articles.loader import articles_for, get_article, problems, translations

CONTENT = Path(__file__).resolve().parent.parent.parent / "content"


@pytest.fixture
def write_translation(articles_dir):
    def write(language: str, slug: str, front: str, body: str = "Hola.") -> Path:
        folder = articles_dir / language
        folder.mkdir(exist_ok=True)
        path = folder / f"{slug}.md"
        path.write_text(f"---\n{textwrap.dedent(front).strip()}\n---\n{textwrap.dedent(body)}", encoding="utf-8")
        return path

    return write


@pytest.fixture
def library(write_article, write_translation):
    write_article("hello", "title: Hello\nauthor: Zorg\ndate: 2026-11-01\nindex: 1\ntags: greetings", "## Start\n\nHi.")
    spanish = "title: Hola\nauthor: Zorg\ndate: 2026-11-01\nindex: 1\ntags: saludos"
    write_translation("es", "hello", spanish, "## Inicio\n\nHola.")
    write_translation("ar", "hello", "title: مرحبا\ndate: 2026-11-01\nindex: 1", "أهلًا.")
    write_article("only-english", "title: Only English\nindex: 2")


def test_loader_finds_every_translation_in_language_order(library):
    assert [a.language for a in translations("hello")] == ["en", "es", "ar"]
    assert get_article("hello", "es").title == "Hola"
    assert get_article("hello").title == "Hello"
    assert get_article("only-english", "es") is None
    assert [(a.slug, a.language) for a in articles_for("es")] == [("hello", "es"), ("only-english", "en")]


def test_page_shows_the_visitors_language_with_links_and_hreflang(client, library):
    page = client.get("/articles/hello/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "<h1>Hola</h1>" in page
    assert "1 de noviembre de 2026" in page  # the date in Spanish
    assert "min de lectura" in page
    assert "fallback-note" not in page
    assert '<link rel="alternate" hreflang="en" href="http://testserver/articles/en/hello/">' in page
    assert '<link rel="alternate" hreflang="es" href="http://testserver/articles/es/hello/">' in page
    assert '<link rel="alternate" hreflang="ar" href="http://testserver/articles/ar/hello/">' in page
    assert '<link rel="alternate" hreflang="x-default" href="http://testserver/articles/hello/">' in page
    assert '<link rel="canonical" href="http://testserver/articles/hello/">' in page
    assert '<a href="/articles/ar/hello/" hreflang="ar" lang="ar">العربية</a>' in page
    assert '<a href="/articles/en/hello/" hreflang="en" lang="en">English</a>' in page


def test_missing_translation_falls_back_to_english_with_a_note(client, library):
    page = client.get("/articles/hello/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "<h1>Hello</h1>" in page
    assert "Cet article n’existe pas encore dans votre langue" in page
    assert '<article class="prose-wrap" lang="en" dir="ltr">' in page


def test_a_language_address_shows_that_version_whole_page_in_its_language(client, library):
    response = client.get("/articles/ar/hello/", HTTP_ACCEPT_LANGUAGE="en")
    page = response.content.decode()
    assert response["Content-Language"] == "ar"
    assert '<html lang="ar" dir="rtl">' in page and "<h1>مرحبا</h1>" in page
    assert '<link rel="canonical" href="http://testserver/articles/ar/hello/">' in page
    # The switcher comes back to the shared address, so choosing a language shows that language.
    assert '<input type="hidden" name="next" value="/articles/hello/">' in page
    assert client.get("/articles/fr/hello/").status_code == 404
    assert client.get("/articles/xx/hello/").status_code == 404


def test_list_shows_one_version_per_article_marking_untranslated_ones(client, library):
    page = client.get("/articles/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert ">Hola</a>" in page and ">Hello</a>" not in page
    assert '<h2 lang="en"><a href="/articles/only-english/">Only English</a></h2>' in page
    assert "Aún sin traducir" in page


def test_sitemap_lists_every_language_version(client, library):
    xml = client.get("/sitemap.xml").content.decode()
    for path in ("/articles/hello/", "/articles/en/hello/", "/articles/es/hello/", "/articles/ar/hello/"):
        assert f"<loc>http://testserver{path}</loc>" in xml
    assert "/articles/fr/hello/" not in xml


def test_feed_is_per_language(client, library):
    xml = client.get("/articles/es/feed/").content.decode()
    assert 'xml:lang="es"' in xml
    assert "<title>Hola</title>" in xml and "Only English" not in xml
    assert "Artículos de AlienMeet" in xml
    assert "http://testserver/articles/es/hello/" in xml
    english = client.get("/articles/feed/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert 'xml:lang="en"' in english and "<title>Hello</title>" in english and "Hola" not in english
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert 'type="application/atom+xml" title="Artículos de AlienMeet" href="/articles/es/feed/"' in page


def test_broken_translation_is_left_out_404_and_named_by_check(client, library, write_translation, caplog):
    write_translation("es", "only-english", "title: [sin cerrar")
    with caplog.at_level(logging.WARNING, logger="alienmeet.articles"):
        assert get_article("only-english", "es") is None
    assert "es/only-english.md" in caplog.text
    assert [str(p.name) for p in problems()] == ["es/only-english.md"]
    assert client.get("/articles/es/only-english/").status_code == 404
    page = client.get("/articles/only-english/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "<h1>Only English</h1>" in page  # the English original still shows, with the note
    with pytest.raises(SystemCheckError) as raised:
        call_command("check")
    message = str(raised.value)
    assert "articles.E001" in message and "es/only-english.md" in message and "/articles/es/only-english/" in message


def test_a_folder_that_is_not_a_language_is_not_read(articles_dir, write_article):
    write_article("hello", "title: Hello")
    (articles_dir / "drafts").mkdir()
    (articles_dir / "drafts" / "hello.md").write_text("---\ntitle: Draft\n---\n", encoding="utf-8")
    assert [a.language for a in translations("hello")] == ["en"]


@pytest.mark.parametrize("slug", ["about-alienmeet", "privacy", "rules"])
@pytest.mark.parametrize("language", [code for code, _name in settings.LANGUAGES if code != "en"])
def test_about_privacy_and_rules_exist_in_every_language(settings, slug, language):
    settings.ARTICLES_DIR = CONTENT
    article = get_article(slug, language)
    assert article is not None, f"content/{language}/{slug}.md is missing or broken"
    english = get_article(slug)
    assert article.title != english.title
    # A whole translation, not a stub: about as many sections and as much text as the original.
    assert article.html.count("<h2") >= english.html.count("<h2") - 1
    assert article.reading_minutes >= english.reading_minutes / 2
