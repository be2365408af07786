"""The rules gate in a real browser: rules and the 18+ confirmation before the camera, remembered per version."""

from __future__ import annotations

import json

import pytest

from tests.browser.conftest import new_context, screenshot, wait_js
from tests.browser.test_site_pages import axe_violations
from tests.servers import Server, collect_static, migrate, server_env, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Counts camera requests from the first line of the page on.
COUNT_CAMERA_REQUESTS = """
window.cameraRequests = 0;
const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
navigator.mediaDevices.getUserMedia = (constraints) => { window.cameraRequests += 1; return original(constraints); };
"""
DIALOG_OPEN = "document.getElementById('rules-dialog').open"


def open_page(context, server: Server):
    page = context.new_page()
    page.on("console", lambda message: print(f"[console] {message.type}: {message.text}"))
    sent: list[str] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(str(payload))))
    page.frames_sent_to_server = sent
    page.goto(f"{server.http_url}/meet/")
    wait_js(page, "window.alienmeet && window.alienmeet.signalingOpen", timeout=15000)
    return page


def joins(page) -> list[dict]:
    frames = [json.loads(frame) for frame in page.frames_sent_to_server]
    return [frame for frame in frames if frame.get("type") == "join"]


def wait_for_join(page) -> dict:
    wait_until(lambda: joins(page), 10, what="a join frame")
    return joins(page)[-1]


def rules_server(tmp_dir, version: str, port: int | None = None) -> Server:
    tmp_dir.mkdir()
    environ = server_env(tmp_dir, MEET_RULES_VERSION=version)
    migrate(environ)
    collect_static(environ)
    return Server(environ, tmp_dir / "server.log", port=port)


def stored_acceptance(page) -> dict | None:
    return page.evaluate("JSON.parse(localStorage.getItem('alienmeet.rules'))")


@pytest.fixture
def gate_context(browser):
    context = new_context(browser, viewport={"width": 1280, "height": 800})
    context.add_init_script(COUNT_CAMERA_REQUESTS)
    yield context
    context.close()


def test_rules_come_first_and_are_asked_again_only_when_they_change(gate_context, tmp_path):
    server = rules_server(tmp_path / "v1", "2026-11-27")
    try:
        page = open_page(gate_context, server)
        # The gate is open at once, labelled, focused on its heading, with the rules in it.
        wait_js(page, DIALOG_OPEN)
        dialog = page.get_by_role("dialog", name="Before you meet strangers")
        assert dialog.is_visible()
        assert page.evaluate("document.activeElement.id") == "rules-title"
        assert "You must be 18 or older" in dialog.inner_text()
        screenshot(page, "rules-gate")
        assert axe_violations(page) == []

        # Declining (Escape) asks for nothing; Talk to Aliens opens the gate again instead of the camera.
        page.keyboard.press("Escape")
        wait_js(page, f"!{DIALOG_OPEN}")
        page.get_by_role("button", name="Talk to Aliens").click()
        wait_js(page, DIALOG_OPEN)
        # Accepting without the confirmation does nothing.
        dialog.get_by_role("button", name="Accept and continue").click()
        assert page.evaluate(DIALOG_OPEN)
        assert page.evaluate("window.cameraRequests") == 0
        assert joins(page) == []

        # With the keyboard: tick the confirmation and accept.
        dialog.get_by_role("checkbox", name="I am 18 or older and I accept the rules.").focus()
        page.keyboard.press("Space")
        page.keyboard.press("Enter")
        wait_js(page, f"!{DIALOG_OPEN}")
        wait_js(page, "window.alienmeet.phase === 'searching'")
        assert page.evaluate("window.cameraRequests") == 1
        acceptance = stored_acceptance(page)
        assert acceptance["version"] == "2026-11-27" and acceptance["acceptedAt"]
        join = wait_for_join(page)
        assert join["rules"] == "2026-11-27"
        assert isinstance(join["pow"]["number"], int)

        # Reloaded: not asked again.
        page.reload()
        wait_js(page, "window.alienmeet.signalingOpen")
        assert not page.evaluate(DIALOG_OPEN)
        page.get_by_role("button", name="Talk to Aliens").click()
        wait_js(page, "window.alienmeet.phase === 'searching'")
        assert not page.evaluate(DIALOG_OPEN)
    finally:
        server.stop()

    # The rules change (same origin, so the same browser storage): asked again before the camera.
    bumped = rules_server(tmp_path / "v2", "2026-12-01", port=server.port)
    try:
        page = open_page(gate_context, bumped)
        wait_js(page, DIALOG_OPEN)
        assert page.evaluate("window.cameraRequests") == 0
        page.get_by_role("checkbox", name="I am 18 or older and I accept the rules.").check()
        page.get_by_role("button", name="Accept and continue").click()
        wait_js(page, f"!{DIALOG_OPEN}")
        assert stored_acceptance(page)["version"] == "2026-12-01"
        page.get_by_role("button", name="Talk to Aliens").click()
        wait_js(page, "window.alienmeet.phase === 'searching'")
        assert page.evaluate("window.cameraRequests") == 1
    finally:
        bumped.stop()


def test_rules_changed_while_the_page_is_open_are_asked_before_the_next_join(gate_context, tmp_path):
    server = rules_server(tmp_path / "before", "2026-11-27")
    try:
        page = open_page(gate_context, server)
        wait_js(page, DIALOG_OPEN)
        page.get_by_role("checkbox", name="I am 18 or older and I accept the rules.").check()
        page.get_by_role("button", name="Accept and continue").click()
        wait_js(page, f"!{DIALOG_OPEN}")
    finally:
        server.stop()
    # The site is redeployed with new rules while the page stays open; its socket comes back by itself.
    bumped = rules_server(tmp_path / "after", "2026-12-01", port=server.port)
    try:
        wait_js(page, "window.alienmeet.signalingOpen", timeout=30000)
        page.get_by_role("button", name="Talk to Aliens").click()
        wait_js(page, DIALOG_OPEN)
        assert joins(page) == [], "nothing joins under rules the visitor has not seen"
        page.get_by_role("checkbox", name="I am 18 or older and I accept the rules.").check()
        page.get_by_role("button", name="Accept and continue").click()
        wait_js(page, "window.alienmeet.phase === 'searching'")
        assert wait_for_join(page)["rules"] == "2026-12-01"
        assert stored_acceptance(page)["version"] == "2026-12-01"
    finally:
        bumped.stop()
