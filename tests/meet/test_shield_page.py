"""What the call page hands the nudity shield and the proof of work: vendored files that exist, a
policy that lets only WebAssembly compile, and the test hook only when the server was started for tests."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders

from alienmeet_site.security import content_security_policy

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


def test_call_page_names_the_proof_of_work_solver(client):
    html = client.get("/meet/").content.decode()
    [path] = re.findall(r'data-pow-worker="/static/([^"]+)"', html)
    assert path == "vendor/altcha-2.3.0/worker.js"
    assert b"onmessage" in Path(finders.find(path)).read_bytes()


def test_every_vendored_package_is_used_by_the_call_page_and_keeps_its_licence(client):
    html = client.get("/meet/").content.decode()
    named = {match.split("/")[0] for match in re.findall(r'"/static/vendor/([^"]+)"', html)}
    packages = {path.name for path in Path(finders.find("vendor")).iterdir() if path.is_dir()}
    assert named == packages
    for package in packages:
        assert finders.find(f"vendor/{package}/LICENSE"), package


def test_vendored_scripts_name_no_missing_source_map():
    # A hashing static storage refuses to collect a file whose sourceMappingURL names a missing map.
    for path in Path(finders.find("vendor")).rglob("*.js"):
        assert b"sourceMappingURL" not in path.read_bytes(), path


def test_only_the_call_page_and_the_shield_worker_let_webassembly_compile(client, rf):
    call = client.get("/meet/")["Content-Security-Policy"]
    assert "script-src 'self' 'wasm-unsafe-eval';" in call
    assert "'unsafe-eval'" not in call
    for url in ("/", "/articles/privacy/", "/static/js/shield.js", "/static/vendor/altcha-2.3.0/worker.js"):
        assert "wasm-unsafe-eval" not in client.get(url)["Content-Security-Policy"], url
    # A worker takes its policy from its own script's response, not from the page that starts it.
    worker = client.get("/static/js/shield_worker.js")
    assert worker.status_code == 200
    assert "script-src 'self' 'wasm-unsafe-eval';" in worker["Content-Security-Policy"]
    assert "'unsafe-eval'" not in worker["Content-Security-Policy"]
    # Under its hashed name too (after collectstatic); nothing else of that name pattern.
    hashed = content_security_policy(rf.get("/static/js/shield_worker.0123456789ab.js"))
    assert "script-src 'self' 'wasm-unsafe-eval';" in hashed
    for path in (
        "/static/js/shield_worker.js.map",
        "/static/js/shield_worker_other.js",
        "/x/static/js/shield_worker.js",
    ):
        assert "wasm-unsafe-eval" not in content_security_policy(rf.get(path)), path


def test_call_page_names_the_shield_worker(client):
    html = client.get("/meet/").content.decode()
    [path] = re.findall(r'data-worker="/static/([^"]+)"', html)
    assert path == "js/shield_worker.js"
    assert b"loadClassifier" in Path(finders.find(path)).read_bytes()


def test_the_test_hook_is_rendered_only_when_the_setting_is_on(client, settings):
    assert "data-test-hook" not in client.get("/meet/").content.decode()
    settings.SHIELD_TEST_HOOK = True
    assert 'data-test-hook="on"' in client.get("/meet/").content.decode()


def test_landing_and_articles_name_no_vendored_file(client):
    for url in ("/", "/articles/", "/articles/privacy/"):
        assert "/static/vendor/" not in client.get(url).content.decode()
