"""Languages: the catalogs are complete and current, pages and protocol errors follow the visitor's language."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.utils.translation import to_locale

from conftest import require
from matchmaking.memory import STORE
from meet import protocol
from tests.meet.conftest import matchmaker_settings
from tests.protocol_client import ORIGIN, Peer
from transport.language import in_language, visitor_language

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "locale"
DOMAINS = ("django", "djangojs")
TRANSLATED = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
# Directories a copy of the tree for makemessages leaves out: nothing of ours to translate lives there.
NOT_COPIED = {
    ".git",
    ".venv",
    "node_modules",
    "staticfiles",
    "artifacts",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
}


def catalogs() -> list[Path]:
    return [LOCALE / to_locale(code) / "LC_MESSAGES" / f"{domain}.po" for code in TRANSLATED for domain in DOMAINS]


def entries(catalog: polib._BaseFile) -> dict[tuple[str, str], object]:
    """What a catalog says, msgid by msgid (plural forms as a tuple), for comparing two of them."""
    return {
        (entry.msgctxt or "", entry.msgid): (
            tuple(entry.msgstr_plural[i] for i in sorted(entry.msgstr_plural)) if entry.msgid_plural else entry.msgstr
        )
        for entry in catalog
        if entry.msgid and not entry.obsolete
    }


def test_at_least_eight_languages_besides_english():
    assert {"es", "pt-br", "fr", "hi", "ar", "ru", "id", "tr"} <= set(TRANSLATED)


@pytest.mark.parametrize("path", catalogs(), ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_every_catalog_is_fully_translated(path):
    assert path.exists(), f"{path} is missing"
    catalog = polib.pofile(str(path))
    assert len(catalog) > 0
    untranslated = [entry.msgid for entry in catalog.untranslated_entries()]
    fuzzy = [entry.msgid for entry in catalog.fuzzy_entries()]
    assert not untranslated, f"untranslated in {path}: {untranslated}"
    assert not fuzzy, f"fuzzy (needs review) in {path}: {fuzzy}"
    assert catalog.percent_translated() == 100
    for entry in catalog:
        if entry.msgid_plural:
            assert all(form.strip() for form in entry.msgstr_plural.values()), entry.msgid


@pytest.mark.parametrize("path", catalogs(), ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_catalog_compiles_and_the_committed_mo_matches_it(path):
    source = polib.pofile(str(path))
    compiled = path.with_suffix(".mo")
    assert compiled.exists(), f"{compiled} is missing: run `make messages`"
    assert entries(polib.mofile(str(compiled))) == entries(source), f"{compiled} is stale: run `make messages`"
    require(shutil.which("msgfmt") is not None, "gettext's msgfmt")
    # --check: placeholders (%(name)s, {name}) and the plural header agree between msgid and msgstr.
    result = subprocess.run(
        ["msgfmt", "--check", "--output-file", os.devnull, str(path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


def test_makemessages_on_a_clean_tree_finds_no_new_msgid(tmp_path):
    """Every string marked in the code is already in every catalog, so nothing untranslated can land."""
    require(shutil.which("xgettext") is not None, "gettext's xgettext")
    copy = tmp_path / "tree"
    shutil.copytree(
        ROOT,
        copy,
        ignore=lambda directory, names: [
            n for n in names if n in NOT_COPIED or (n == "vendor" and directory.endswith("static"))
        ],
    )
    env = {**os.environ, "DJANGO_DEBUG": "1", "DJANGO_SETTINGS_MODULE": "alienmeet_site.settings"}
    env.pop("DATABASE_URL", None)
    for domain in DOMAINS:
        result = subprocess.run(
            [sys.executable, "manage.py", "makemessages", "--all", "--domain", domain, "--verbosity", "0"],
            cwd=copy,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr
    for path in catalogs():
        fresh = polib.pofile(str(copy / path.relative_to(ROOT)))
        ours = polib.pofile(str(path))
        new = set(entries(fresh)) - set(entries(ours))
        gone = set(entries(ours)) - set(entries(fresh))
        assert not new, f"strings not yet in {path.relative_to(ROOT)} (run `make messages` and translate): {new}"
        assert not gone, f"strings no longer used, still in {path.relative_to(ROOT)}: {gone}"


# The visitor's language.


def test_language_follows_accept_language_with_direction(client):
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="ar,en;q=0.5").content.decode()
    assert '<html lang="ar" dir="rtl">' in page
    assert "تحدّث مع الفضائيين" in page
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="pt-BR,pt;q=0.9").content.decode()
    assert '<html lang="pt-br" dir="ltr">' in page
    assert "Falar com alienígenas" in page
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="xx").content.decode()
    assert '<html lang="en" dir="ltr">' in page
    assert "Talk to Aliens" in page


def test_switcher_posts_to_set_language_and_the_cookie_keeps_the_choice(client):
    page = client.get("/meet/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert page.count('action="/i18n/setlang/"') == 2  # header and footer
    assert '<label for="language-header">' in page and '<label for="language-footer">' in page
    assert '<option value="hi" lang="hi">हिन्दी</option>' in page
    response = client.post("/i18n/setlang/", {"language": "hi", "next": "/meet/"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302
    assert response["Location"] == "/meet/"  # the URL stays as it was
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "hi"
    page = client.get("/meet/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="hi" dir="ltr">' in page
    assert "एलियंस से बात करें" in page
    assert '<option value="hi" lang="hi" selected>' in page


def test_switcher_refuses_an_unknown_language(client):
    response = client.post("/i18n/setlang/", {"language": "xx", "next": "/"})
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    assert '<html lang="en"' in client.get("/").content.decode()


def test_404_and_500_pages_are_translated(client):
    page = client.get("/nowhere/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Perdu dans l’espace" in page
    from django.template import loader
    from django.utils import translation

    with translation.override("ru"):
        page = loader.get_template("500.html").render()
    assert '<html lang="ru" dir="ltr">' in page and "Что-то пошло не так" in page


def test_javascript_catalog_has_the_call_page_plurals(client):
    script = client.get("/jsi18n/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "%(count)s \\u043f\\u0440\\u0438\\u0448\\u0435\\u043b\\u0435\\u0446" in script  # "пришелец"
    assert "n%10==1 && n%100!=11" in script  # Russian's three plural forms
    page = client.get("/meet/").content.decode()
    catalog, module = page.index('<script src="/jsi18n/">'), page.index('<script type="module"')
    assert catalog < module  # a classic script runs before the modules that read it


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([(b"accept-language", b"es-MX,es;q=0.9,en;q=0.5")], "es"),
        ([(b"accept-language", b"pt-BR")], "pt-br"),
        ([(b"accept-language", b"de, hi;q=0.8")], "hi"),
        ([(b"accept-language", b"es"), (b"cookie", b"other=1; django_language=ar")], "ar"),
        ([(b"cookie", b"django_language=xx")], "en"),
        ([(b"cookie", b'\xff"broken'), (b"accept-language", b"tr")], "tr"),
        ([], "en"),
    ],
)
def test_visitor_language_from_a_websocket_handshake(headers, expected):
    assert visitor_language({"headers": headers}) == expected


def test_protocol_messages_are_translated_lazily():
    with pytest.raises(protocol.ProtocolError) as raised:
        protocol.parse_frame('{"type": "join", "interests": ["a", "b", "c", "d", "e", "f"]}')
    scope = {"headers": [(b"accept-language", b"fr")]}
    assert in_language(raised.value.message, scope) == "5 centres d’intérêt au maximum"
    assert in_language(raised.value.message, {"headers": []}) == "at most 5 interests"


@pytest.mark.django_db(transaction=True)
async def test_error_message_reaches_the_visitor_in_their_language(settings):
    settings.MATCHMAKER = matchmaker_settings("memory")  # this process only, whatever REDIS_URL says
    STORE.clear()
    peer = await Peer.connect(headers=[ORIGIN, (b"accept-language", b"es-ES,es;q=0.9")])
    await peer.send("not json")
    error = await peer.expect("error", code=protocol.BAD_JSON)
    assert error["message"] == "la trama no es JSON válido"
    await peer.send({"type": "signal", "match_id": "nope", "data": {}})
    error = await peer.expect("error", code=protocol.NOT_MATCHED)
    assert error["message"] == "No hay ningún emparejamiento actual con ese match_id; mensaje descartado."
    await peer.close()
    STORE.clear()
