"""What the call page hands the nudity shield: vendored files that exist, a policy that lets only
WebAssembly compile, and the test hook only when the server was started for tests."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db

SHIELD_ASSETS = re.compile(r'data-(tf-core|tf-layers|tf-wasm|wasm|wasm-simd|model|weights)="/static/([^"]+)"')


def shield_assets(html: str) -> dict[str, str]:
    return dict(SHIELD_ASSETS.findall(html))


def test_call_page_names_every_vendored_file_of_the_shield(client):
    assets = shield_assets(client.get("/meet/").content.decode())
    assert set(assets) == {"tf-core", "tf-layers", "tf-wasm", "wasm", "wasm-simd", "model", "weights"}
    for path in assets.values():
        assert path.startswith("vendor/")
        assert finders.find(path), path
    # The weights are one file holding exactly what the model's manifest describes.
    model = json.loads(Path(finders.find(assets["model"])).read_text())
    [group] = model["weightsManifest"]
    expected = 0
    for spec in group["weights"]:
        count = 1
        for size in spec["shape"]:
            count *= size
        expected += count * (1 if spec["quantization"]["dtype"] == "uint8" else 2)
    assert Path(finders.find(assets["weights"])).stat().st_size == expected


def test_vendored_scripts_name_no_missing_source_map():
    # A hashing static storage refuses to collect a file whose sourceMappingURL names a missing map.
    for path in Path(finders.find("vendor")).rglob("*.js"):
        assert b"sourceMappingURL" not in path.read_bytes(), path


def test_only_the_call_page_lets_webassembly_compile(client):
    call = client.get("/meet/")["Content-Security-Policy"]
    assert "script-src 'self' 'wasm-unsafe-eval';" in call
    assert "'unsafe-eval'" not in call
    for url in ("/", "/articles/privacy/"):
        assert "wasm-unsafe-eval" not in client.get(url)["Content-Security-Policy"]


def test_the_test_hook_is_rendered_only_when_the_setting_is_on(client, settings):
    assert "data-test-hook" not in client.get("/meet/").content.decode()
    settings.SHIELD_TEST_HOOK = True
    assert 'data-test-hook="on"' in client.get("/meet/").content.decode()


def test_landing_and_articles_name_no_vendored_file(client):
    for url in ("/", "/articles/", "/articles/privacy/"):
        assert "/static/vendor/" not in client.get(url).content.decode()
