"""static/js/call_phase.js: where the call page is in meeting strangers, run with no socket and no DOM."""

from __future__ import annotations

import pytest

from tests.browser.module_page import module_page, run

pytestmark = pytest.mark.browser

__all__ = ["module_page"]  # the fixture

PHASE = """
const { CallPhase } = await import('/static/js/call_phase.js');
const seen = [];
const phase = new CallPhase((current, status) => seen.push([current, status ?? null]));
const snapshot = () => ({ phase: phase.phase, wantCall: phase.wantCall });
"""


def test_a_call_goes_from_idle_through_searching_and_connecting_to_connected(module_page):
    result = run(
        module_page,
        PHASE
        + """
        const steps = [snapshot()];
        phase.search('Looking'); steps.push(snapshot());
        phase.matched('Connecting'); steps.push(snapshot());
        phase.connect('Connected'); steps.push(snapshot());
        phase.say('Connected again'); steps.push(snapshot());
        return { steps, seen, connected: phase.connected };
        """,
    )
    assert result["steps"] == [
        {"phase": "idle", "wantCall": False},
        {"phase": "searching", "wantCall": True},
        {"phase": "connecting", "wantCall": True},
        {"phase": "connected", "wantCall": True},
        {"phase": "connected", "wantCall": True},
    ]
    assert result["seen"] == [
        ["searching", "Looking"],
        ["connecting", "Connecting"],
        ["connected", "Connected"],
        ["connected", "Connected again"],
    ]
    assert result["connected"] is True


def test_stop_gives_up_the_wish_and_pause_keeps_it(module_page):
    result = run(
        module_page,
        PHASE
        + """
        phase.search();
        phase.pause('Too many Next presses');
        const paused = { ...snapshot(), waiting: phase.waitingToSearch };
        phase.search();
        phase.stop('Stopped');
        const stopped = { ...snapshot(), waiting: phase.waitingToSearch };
        return { paused, stopped, last: seen.at(-1) };
        """,
    )
    assert result["paused"] == {"phase": "idle", "wantCall": True, "waiting": True}
    assert result["stopped"] == {"phase": "idle", "wantCall": False, "waiting": False}
    assert result["last"] == ["idle", "Stopped"]


def test_what_a_new_connections_hello_leads_to(module_page):
    result = run(
        module_page,
        PHASE
        + """
        const out = { idle: phase.afterHello(false), idleWithCall: phase.afterHello(true) };
        phase.search();
        out.wanted = phase.afterHello(false);
        out.wantedWithCall = phase.afterHello(true);
        phase.wantCall = false;
        out.searchingUnwanted = phase.afterHello(false);
        return out;
        """,
    )
    assert result == {
        "idle": "ready",
        "idleWithCall": "unlink",
        "wanted": "join",
        "wantedWithCall": "unlink",
        "searchingUnwanted": None,
    }


def test_an_unknown_phase_is_refused(module_page):
    message = run(
        module_page,
        PHASE + "try { phase.set('ringing'); return null; } catch (error) { return [error.message, phase.phase]; }",
    )
    assert message == ["unknown phase ringing", "idle"]
