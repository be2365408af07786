"""Hashed static names: what pages link before and after `collectstatic`."""

from __future__ import annotations

import json

from alienmeet_site.static_storage import HashedStaticStorage


def storage_with(tmp_path, manifest: dict[str, str] | None) -> HashedStaticStorage:
    if manifest is not None:
        (tmp_path / "staticfiles.json").write_text(json.dumps({"version": "1.1", "paths": manifest, "hash": "x"}))
    return HashedStaticStorage(location=str(tmp_path), base_url="/static/")


def test_collected_files_are_linked_by_their_hashed_names(tmp_path):
    storage = storage_with(tmp_path, {"js/call.js": "js/call.0123456789ab.js"})
    assert storage.url("js/call.js") == "/static/js/call.0123456789ab.js"


def test_without_collectstatic_pages_link_the_plain_names(tmp_path):
    assert storage_with(tmp_path, None).url("js/call.js") == "/static/js/call.js"


def test_a_file_added_since_the_last_collectstatic_keeps_its_plain_name(tmp_path, caplog):
    storage = storage_with(tmp_path, {"js/call.js": "js/call.0123456789ab.js"})
    assert storage.url("js/new.js") == "/static/js/new.js"
    assert "static_not_collected name=js/new.js" in caplog.text


def test_collectstatic_rewrites_module_imports_to_hashed_names(tmp_path, settings):
    source = tmp_path / "source"
    (source / "js").mkdir(parents=True)
    (source / "js" / "chat.js").write_text("export const chat = 1;\n")
    # Long enough for gzip to pay off: WhiteNoise keeps a .gz only when it is smaller.
    body = "".join(f"console.log(chat, {n});\n" for n in range(200))
    (source / "js" / "call.js").write_text(f'import {{ chat }} from "./chat.js";\n{body}')
    settings.STATICFILES_DIRS = [source]
    settings.STATIC_ROOT = tmp_path / "collected"
    settings.INSTALLED_APPS = [app for app in settings.INSTALLED_APPS if app != "django.contrib.admin"]
    from django.core.management import call_command

    call_command("collectstatic", "--no-input", verbosity=0)
    paths = json.loads((tmp_path / "collected" / "staticfiles.json").read_text())["paths"]
    call = (tmp_path / "collected" / paths["js/call.js"]).read_text()
    assert f'from "./{paths["js/chat.js"].removeprefix("js/")}";' in call
    assert (tmp_path / "collected" / (paths["js/call.js"] + ".gz")).exists()


def test_every_call_page_module_imports_hashed_names(tmp_path, settings):
    """All of static/js collected: each module's relative imports, however many lines they span, name
    the hashed file (the call page is split into many small modules importing each other)."""
    import re
    import shutil
    from pathlib import Path

    source = tmp_path / "source"
    shutil.copytree(Path(__file__).resolve().parents[1] / "static" / "js", source / "js")
    settings.STATICFILES_DIRS = [source]
    settings.STATIC_ROOT = tmp_path / "collected"
    settings.INSTALLED_APPS = [app for app in settings.INSTALLED_APPS if app != "django.contrib.admin"]
    from django.core.management import call_command

    call_command("collectstatic", "--no-input", verbosity=0)
    paths = json.loads((tmp_path / "collected" / "staticfiles.json").read_text())["paths"]
    hashed = set(paths.values())
    modules = [name for name in paths if name.endswith(".js")]
    assert {"js/call.js", "js/protocol.js", "js/server_events.js"} <= set(modules)
    for name in modules:
        text = (tmp_path / "collected" / paths[name]).read_text(encoding="utf-8")
        for target in re.findall(r'^(?:import|export)\b[^;]*?\bfrom\s*"([^"]+)"', text, flags=re.MULTILINE | re.DOTALL):
            assert re.fullmatch(r"\./\w+\.[0-9a-f]{12}\.js", target), (name, target)
            assert f"js/{target.removeprefix('./')}" in hashed, (name, target)
