"""static/js/server_events.js: the call page's answer to each server message, driven with fakes (no socket)."""

from __future__ import annotations

import pytest

from tests.browser.module_page import module_page, run

pytestmark = pytest.mark.browser

__all__ = ["module_page"]  # the fixture

# The page's parts as fakes that note what is done to them; `emit` plays a server message.
FAKE_PAGE = """
const { ServerEvents } = await import('/static/js/server_events.js');
const { CallPhase } = await import('/static/js/call_phase.js');
const log = [];
const note = (...entry) => log.push(entry);
const signaling = new EventTarget();
signaling.send = (frame) => { note('send', frame); return true; };
const phase = new CallPhase((current, status) => note('phase', current, status ?? null));
const session = (matchId, connectionState = 'connected', channelOpen = true) => ({
  matchId, pc: { connectionState }, channelOpen,
  handleSignal: (data) => note('handleSignal', data),
  resume: () => note('session.resume'),
  partnerResumed: () => note('partnerResumed'),
  useIceServers: (servers) => note('useIceServers', servers),
});
const resume = {
  cutOff: false, claims: false, token: true,
  refusedBy: () => resume.claims, request: () => null, farewell: () => null,
  remember: (detail) => note('remember', detail.match_id), isOurs: () => true,
  settle: () => note('resume.settle'), forget: () => note('resume.forget'),
  connectionLost: () => resume.token,
};
const call = {
  session: null, unlinked: false, iceServers: [], relayOffered: false, nearlyExpired: false,
  get linked() { return !this.unlinked && !resume.cutOff; },
  get condition() {
    const { pc, channelOpen } = this.session;
    return { connectionState: pc.connectionState, channelOpen, nearlyExpired: this.nearlyExpired };
  },
  unlink() { this.unlinked = true; note('unlink'); },
  start(detail) { this.session = session(detail.match_id); note('start', detail.match_id); },
  end() { this.session = null; note('end'); },
};
const reports = { claims: false, crossed: false, refusedBy: () => reports.claims, crossedBy: () => reports.crossed };
const iceRefresh = {
  claims: false, refusedBy: () => iceRefresh.claims,
  retryAfter: (seconds) => note('iceRefresh.retryAfter', seconds),
  schedule: () => note('iceRefresh.schedule'), answered: () => note('iceRefresh.answered'),
};
const admission = {
  join: { type: 'join' }, hello: () => note('admission.hello'),
  admit: (message) => note('admit', message), refused: (detail) => note('refused', detail.code),
};
const view = {
  ui: { start: { disabled: false } },
  status: (text) => note('status', text),
  remoteMessage: (text) => note('remote', text),
  online: (count) => note('online', count),
};
const chat = { add: (text) => note('chat', text) };
const lastMatch = { forget: () => note('lastMatch.forget') };
const page = {
  search: (kind) => note('search', kind), strangerLeft: () => note('strangerLeft'),
  couldNotConnect: (kind) => note('couldNotConnect', kind),
};
const parts = { phase, call, admission, resume, iceRefresh, reports, lastMatch, view, chat, page };
new ServerEvents(parts).listen(signaling);
const emit = (type, detail) => signaling.dispatchEvent(new CustomEvent(type, { detail }));
console.warn = (...parts) => note('warn', ...parts.slice(1));
"""


def play(page, script: str) -> list[list]:
    return run(page, FAKE_PAGE + script + "\nreturn log;")


@pytest.mark.parametrize(
    ("detail", "action"),
    [
        ({"code": "too_many_connections"}, "tooManyConnections"),
        ({"code": "banned"}, "banned"),
        ({"code": "rules_required"}, "admissionRefused"),
        ({"code": "pow_required"}, "admissionRefused"),
        ({"code": "pow_invalid"}, "admissionRefused"),
        ({"code": "pow_expired"}, "admissionRefused"),
        # The Next limit says when to come back; any other rate limit is only said.
        ({"code": "rate_limited", "retry_after": 3}, "admissionRefused"),
        ({"code": "rate_limited"}, "notice"),
        ({"code": "unavailable"}, "notice"),
        ({"code": "not_matched"}, "ignore"),
        ({"code": "resume_failed"}, "ignore"),
        ({"code": "bad_message"}, "warn"),
        ({"code": "something_new"}, "warn"),
        ({"code": "toString"}, "warn"),
    ],
)
def test_error_codes_table(module_page, detail, action):
    found = run(
        module_page,
        "const { errorAction } = await import('/static/js/server_events.js'); return errorAction(args.detail);",
        detail=detail,
    )
    assert found == action


def test_each_error_is_handled_as_its_code_says(module_page):
    log = play(
        module_page,
        """
        emit('error', { code: 'pow_invalid', message: 'Solve again' });
        emit('error', { code: 'rate_limited', message: 'Slow down', retry_after: 5 });
        emit('error', { code: 'unavailable', message: 'Busy' });
        emit('error', { code: 'not_matched', message: 'No call' });
        emit('error', { code: 'bad_message', message: 'What?' });
        """,
    )
    assert log == [
        ["refused", "pow_invalid"],
        ["refused", "rate_limited"],
        ["status", "Busy"],
        ["warn", "bad_message", "What?"],
    ]


def test_a_request_of_ours_claims_its_answer_before_the_table(module_page):
    log = play(
        module_page,
        """
        resume.claims = true;
        emit('error', { code: 'resume_failed', message: 'Gone' });
        resume.claims = false;
        reports.claims = true;
        emit('error', { code: 'unavailable', message: 'Busy', about: 'report' });
        reports.claims = false;
        iceRefresh.claims = true;
        emit('error', { code: 'rate_limited', message: 'Later', retry_after: 30 });
        """,
    )
    # resume_failed ends the match on the server (settled and forgotten); no call here to decide about.
    assert log == [["resume.settle"], ["resume.forget"], ["iceRefresh.retryAfter", 30]]


def test_banned_and_turned_away(module_page):
    log = play(
        module_page,
        """
        phase.search();
        emit('error', { code: 'too_many_connections', reason: 'rate', message: 'Wait a minute' });
        note('wantCall', phase.wantCall);
        call.session = session('m1');
        emit('error', { code: 'too_many_connections', reason: 'open', message: 'Close a tab' });
        call.session = null;
        emit('error', { code: 'banned', message: 'Banned' });
        note('wantCall', phase.wantCall, view.ui.start.disabled);
        """,
    )
    assert log == [
        ["phase", "searching", None],
        ["status", "Wait a minute"],
        ["phase", "idle", "Wait a minute"],
        ["remote", "Wait a minute"],
        ["wantCall", True],
        # In a call, turned away for open connections: the call goes on unlinked.
        ["status", "Close a tab"],
        ["unlink"],
        ["phase", "idle", "Banned"],
        ["remote", "Banned"],
        ["wantCall", False, True],
    ]


def test_the_stranger_leaving(module_page):
    log = play(
        module_page,
        """
        call.session = session('m1');
        emit('partner_left', { match_id: 'other', reason: 'next' });
        emit('partner_left', { match_id: 'm1', reason: 'disconnect' });
        call.unlinked = false;
        emit('partner_left', { match_id: 'm1', reason: 'next' });
        call.nearlyExpired = true;
        emit('partner_left', { match_id: 'm1', reason: 'next' });
        call.session = null;
        reports.crossed = true;
        phase.search();
        emit('partner_left', { match_id: 'm0', reason: 'next' });
        """,
    )
    assert log == [
        ["unlink"],
        ["chat", "The stranger lost touch with our server, but your call goes on."],
        ["strangerLeft"],
        ["couldNotConnect", "join"],
        ["phase", "searching", None],
        # Our report crossed their Next: the page asks for someone new itself.
        ["admit", {"type": "join"}],
    ]


def test_losing_the_signaling_connection(module_page):
    log = play(
        module_page,
        """
        emit('close', { code: 4029, final: true });
        emit('close', { code: 4010, final: false });
        call.session = session('m1');
        emit('close', { code: 1006, final: false });
        resume.token = false;
        emit('close', { code: 1006, final: false });
        call.unlinked = false;
        call.session = session('m2', 'connecting', false);
        emit('close', { code: 1006, final: false });
        emit('close', { code: 1000, final: true });
        """,
    )
    lost = ["status", "Connection to AlienMeet lost. Reconnecting…"]
    assert log == [
        # Turned away: the server's own words stay on screen.
        ["lastMatch.forget"],
        # A newer connection of ours took the match over.
        ["lastMatch.forget"],
        # With a token, the next connection resumes the call.
        ["lastMatch.forget"],
        lost,
        # Without, a running call goes on unlinked and one still connecting ends.
        ["lastMatch.forget"],
        lost,
        ["unlink"],
        ["lastMatch.forget"],
        lost,
        ["end"],
        ["lastMatch.forget"],
        ["status", "Disconnected from AlienMeet."],
    ]


def test_hello_on_a_new_connection(module_page):
    log = play(
        module_page,
        """
        emit('hello', { online: 3, ice_servers: [{ urls: 'stun:x' }], relay: true });
        note('ice', call.iceServers, call.relayOffered);
        phase.search();
        emit('hello', { online: 4, ice_servers: [] });
        call.session = session('m1');
        emit('hello', { online: 5, ice_servers: [{ urls: 'stun:y' }] });
        note('ice', call.iceServers, call.relayOffered);
        """,
    )
    assert log == [
        ["admission.hello"],
        ["online", 3],
        ["status", "Ready when you are."],
        ["ice", [{"urls": "stun:x"}], True],
        ["phase", "searching", None],
        ["admission.hello"],
        ["online", 4],
        ["search", "join"],
        # A call going on keeps its servers, and goes on unlinked.
        ["admission.hello"],
        ["online", 5],
        ["unlink"],
        ["ice", [], False],
    ]


def test_a_match_the_visitor_no_longer_wants_is_left(module_page):
    log = play(
        module_page,
        """
        emit('matched', { match_id: 'm1', polite: true, interests: [] });
        phase.search();
        emit('matched', { match_id: 'm2', polite: true, interests: [], ice_servers: [{ urls: 'turn:z' }] });
        note('ice', call.iceServers);
        """,
    )
    assert log == [
        ["send", {"type": "leave"}],
        ["phase", "searching", None],
        ["start", "m2"],
        ["remember", "m2"],
        ["iceRefresh.schedule"],
        ["ice", [{"urls": "turn:z"}]],
    ]


def test_signals_reach_only_the_current_linked_call(module_page):
    log = play(
        module_page,
        """
        emit('signal', { match_id: 'm1', data: { a: 1 } });
        call.session = session('m1');
        emit('signal', { match_id: 'm0', data: { a: 2 } });
        emit('signal', { match_id: 'm1', data: { a: 3 } });
        call.unlinked = true;
        emit('signal', { match_id: 'm1', data: { a: 4 } });
        emit('partner_resumed', { match_id: 'm1' });
        call.unlinked = false;
        emit('partner_resumed', { match_id: 'm1' });
        """,
    )
    assert log == [["handleSignal", {"a": 3}], ["partnerResumed"]]
