from articles.rendering import render_markdown, sanitize


def test_fenced_code_is_highlighted_with_pygments():
    html = render_markdown("```python\ndef hello():\n    return 42\n```\n").html
    assert '<div class="highlight">' in html
    assert '<span class="k">def</span>' in html


def test_tables_render():
    html = render_markdown("| a | b |\n|---|---|\n| 1 | 2 |\n").html
    assert "<table>" in html and "<td>1</td>" in html


def test_table_of_contents_has_heading_anchors():
    rendered = render_markdown("## First part\n\ntext\n\n### Detail\n\nmore\n\n## Second part\n")
    assert '<h2 id="first-part">' in rendered.html
    assert '<h3 id="detail">' in rendered.html
    assert 'href="#first-part"' in rendered.toc_html
    assert 'href="#second-part"' in rendered.toc_html


def test_scripts_handlers_and_javascript_urls_never_survive():
    text = (
        "Hi <script>alert('x')</script> there\n\n"
        '<img src="x.png" onerror="alert(1)" alt="pic">\n\n'
        "[click](javascript:alert(1))\n\n"
        '<a href="JaVaScRiPt:alert(2)" onclick="steal()">raw</a>\n\n'
        "<style>body{display:none}</style>\n\n"
        '<iframe src="https://evil.example"></iframe>\n'
    )
    html = render_markdown(text).html
    lowered = html.lower()
    for bad in ("<script", "alert('x')", "onerror", "onclick", "javascript:", "<style", "<iframe"):
        assert bad not in lowered
    assert '<img src="x.png" alt="pic">' in html


def test_links_and_images_are_kept():
    html = render_markdown('[home](/) and ![alien](/static/img/alien.svg "Zorg")').html
    assert '<a href="/" rel="noopener noreferrer">home</a>' in html
    assert 'src="/static/img/alien.svg"' in html and 'title="Zorg"' in html


def test_sanitize_keeps_heading_ids_and_code_classes():
    html = '<h2 id="x" style="color:red">T</h2><code class="language-js">1</code>'
    assert sanitize(html) == '<h2 id="x">T</h2><code class="language-js">1</code>'


def test_reading_time_counts_words():
    assert render_markdown("word " * 10).reading_minutes == 1
    assert render_markdown("word " * 401).reading_minutes == 3
