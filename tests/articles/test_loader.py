import datetime
import logging
import os

from articles.loader import all_articles, get_article, problems


def test_every_front_matter_field_is_read(write_article):
    write_article(
        "full",
        """
        title: Full article
        author: Zorg
        date: 2026-11-20
        tags: webrtc, Privacy ,  , networking
        index: 2
        description: All the fields.
        oneLiner: Short and sweet.
        """,
    )
    (article,) = all_articles()
    assert article.slug == "full"
    assert article.title == "Full article"
    assert article.author == "Zorg"
    assert article.date == datetime.date(2026, 11, 20)
    assert [t.name for t in article.tags] == ["webrtc", "Privacy", "networking"]
    assert [t.slug for t in article.tags] == ["webrtc", "privacy", "networking"]
    assert article.index == 2
    assert article.description == "All the fields."
    assert article.one_liner == "Short and sweet."


def test_only_title_is_required(write_article):
    write_article("bare", "title: Bare")
    (article,) = all_articles()
    assert (article.author, article.date, article.tags, article.index) == ("", None, (), None)


def test_tags_as_yaml_list_and_date_as_string(write_article):
    write_article("listed", 'title: Listed\ntags: [one, "Two Words", 3]\ndate: "2026-01-02"')
    (article,) = all_articles()
    assert [t.slug for t in article.tags] == ["one", "two-words", "3"]
    assert article.date == datetime.date(2026, 1, 2)


def test_unicode_title_tags_and_body(write_article):
    write_article("unicode", "title: Привет, 世界 👽\ntags: [émigré, 日本]", "## Ünïcødé heading\n\nΚαλημέρα 👋")
    article = get_article("unicode")
    assert article is not None
    assert article.title == "Привет, 世界 👽"
    assert [t.slug for t in article.tags] == ["émigré", "日本"]
    assert "Καλημέρα 👋" in article.html
    assert 'id="ünïcødé-heading"' in article.html


def test_order_is_index_then_newest_date(write_article):
    write_article("no-index-old", "title: D\ndate: 2020-01-01")
    write_article("no-index-new", "title: C\ndate: 2025-01-01")
    write_article("second", "title: B\nindex: 2")
    write_article("first-old", "title: A1\nindex: 1\ndate: 2024-01-01")
    write_article("first-new", "title: A2\nindex: 1\ndate: 2026-01-01")
    assert [a.slug for a in all_articles()] == ["first-new", "first-old", "second", "no-index-new", "no-index-old"]


def test_broken_files_are_reported_with_file_and_field(write_article, articles_dir, caplog):
    write_article("good", "title: Good")
    write_article("bad-yaml", "title: [unclosed")
    write_article("no-title", "author: Someone")
    write_article("bad-index", "title: Bad index\nindex: abc")
    write_article("bad-date", "title: Bad date\ndate: someday")
    write_article("bad-tags", "title: Bad tags\ntags: {a: 1}")
    write_article("bad-author", "title: Bad author\nauthor: [1, 2]")
    (articles_dir / "not utf8.md").write_bytes(b"---\ntitle: x\n---\n\xff")
    with caplog.at_level(logging.WARNING, logger="alienmeet.articles"):
        assert [a.slug for a in all_articles()] == ["good"]
    found = {p.path.name: p.field for p in problems()}
    assert found == {
        "bad-yaml.md": "front matter",
        "no-title.md": "title",
        "bad-index.md": "index",
        "bad-date.md": "date",
        "bad-tags.md": "tags",
        "bad-author.md": "author",
        "not utf8.md": None,
    }
    logged = caplog.text
    for name in found:
        assert name in logged


def test_changed_file_is_rendered_again_without_restart(write_article):
    path = write_article("live", "title: Before", "First body.")
    assert get_article("live").title == "Before"
    write_article("live", "title: After", "Second body.")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    article = get_article("live")
    assert article.title == "After"
    assert "Second body." in article.html


def test_deleted_and_added_files_are_noticed(write_article):
    path = write_article("temporary", "title: Temporary")
    assert get_article("temporary") is not None
    path.unlink()
    assert get_article("temporary") is None
    write_article("fresh", "title: Fresh")
    assert [a.slug for a in all_articles()] == ["fresh"]


def test_only_markdown_files_in_the_directory_count(write_article, articles_dir):
    write_article("real", "title: Real")
    (articles_dir / "notes.txt").write_text("---\ntitle: Not an article\n---\n", encoding="utf-8")
    (articles_dir / "sub").mkdir()
    (articles_dir / "sub" / "nested.md").write_text("---\ntitle: Nested\n---\n", encoding="utf-8")
    assert [a.slug for a in all_articles()] == ["real"]


def test_missing_directory_means_no_articles(settings, tmp_path):
    settings.ARTICLES_DIR = tmp_path / "does-not-exist"
    assert all_articles() == []
    assert problems() == []


def test_shipped_articles_all_load():
    assert problems() == []
    slugs = {a.slug for a in all_articles()}
    assert {"about-alienmeet", "how-webrtc-works", "privacy"} <= slugs
