"""static/js/admission.js: what a join carries and what a refusal of it leads to, with fakes (no socket)."""

from __future__ import annotations

import pytest

from tests.browser.module_page import module_page, run

pytestmark = pytest.mark.browser

__all__ = ["module_page"]  # the fixture

FAKES = """
const { Admission } = await import('/static/js/admission.js');
const { CallPhase } = await import('/static/js/call_phase.js');
const log = [];
const note = (...entry) => log.push(entry);
const signaling = {
  open: true, greeted: true,
  send: (frame) => { note('send', frame); return signaling.open; },
  reconnect: () => note('reconnect'),
};
const gate = {
  acceptedVersion: 'v2', accepted: true, accepts: true,
  useVersion: (version) => note('useVersion', version),
  ask: async () => { note('ask'); return gate.accepts; },
};
const pow = {
  retries: 0,
  solution: async () => ({ number: 7 }),
  start: (challenge) => note('pow.start', challenge),
  retry: (challenge) => { note('pow.retry', challenge); pow.retries += 1; return pow.retries <= 2; },
};
const phase = new CallPhase((current, status) => note('phase', current, status ?? null));
const page = {
  idle: (message) => { phase.pause(message); note('remote', message); },
  start: () => note('start'), search: (kind) => note('search', kind),
};
const admission = new Admission({ signaling, gate, pow, phase, page });
admission.interests = ['chess'];
admission.languages = ['es'];
"""


def play(page, script: str) -> list[list]:
    return run(page, FAKES + script + "\nreturn log;")


def test_a_join_carries_the_rules_the_solution_and_asks_for_resume_tokens(module_page):
    log = play(
        module_page,
        """
        admission.hello({ challenge: { salt: 's' }, rules: 'v2' });
        phase.search();
        await admission.admit(admission.join);
        await admission.admit({ type: 'next' });
        """,
    )
    assert log == [
        ["pow.start", {"salt": "s"}],
        ["useVersion", "v2"],
        ["phase", "searching", None],
        [
            "send",
            {
                "type": "join",
                "interests": ["chess"],
                "languages": ["es"],
                "resume": True,
                "rules": "v2",
                "pow": {"number": 7},
            },
        ],
        ["send", {"type": "next", "resume": True, "rules": "v2", "pow": {"number": 7}}],
    ]


def test_nothing_is_sent_once_the_visitor_stopped_and_a_closed_socket_reconnects(module_page):
    log = play(
        module_page,
        """
        await admission.admit(admission.join);
        phase.search();
        signaling.open = false;
        await admission.admit(admission.join);
        signaling.greeted = false;
        await admission.admit(admission.join);
        """,
    )
    # Closed under a join on its way, or closed before: a connection is opened, whose hello joins.
    assert [entry[0] for entry in log] == ["phase", "send", "reconnect", "reconnect"]


def test_an_open_connection_sends_nothing_before_its_hello(module_page):
    log = play(
        module_page,
        """
        phase.search();
        signaling.greeted = false;
        await admission.admit(admission.join);
        """,
    )
    assert [entry[0] for entry in log] == ["phase", "reconnect"]  # a no-op while a socket is open


def test_rules_a_hello_named_and_the_visitor_has_not_accepted_are_asked_before_any_join(module_page):
    log = play(
        module_page,
        """
        phase.search();
        admission.hello({ challenge: { salt: 's' }, rules: 'v3' });
        gate.accepted = false;  // what useVersion('v3') leaves when 'v2' was accepted
        await admission.admit(admission.join);
        await new Promise((resolve) => setTimeout(resolve, 0));
        note('wantCall', phase.wantCall);
        """,
    )
    assert [entry[0] for entry in log if entry[0] == "send"] == []
    assert ["ask"] in log and ["start"] in log and ["wantCall", False] in log


def test_what_refuses_admission(module_page):
    refusals = run(
        module_page,
        """
        const { Admission } = await import('/static/js/admission.js');
        return [
          { code: 'rules_required' }, { code: 'pow_required' }, { code: 'pow_invalid' }, { code: 'pow_expired' },
          { code: 'rate_limited', retry_after: 2 }, { code: 'rate_limited' }, { code: 'unavailable' },
        ].map((detail) => Admission.refuses(detail));
        """,
    )
    assert refusals == [True, True, True, True, True, False, False]


def test_new_rules_ask_the_visitor_again(module_page):
    log = play(
        module_page,
        """
        phase.search();
        admission.refused({ code: 'rules_required', message: 'New rules', rules: 'v3' });
        await new Promise((resolve) => setTimeout(resolve, 0));
        note('wantCall', phase.wantCall);
        """,
    )
    assert log == [
        ["phase", "searching", None],
        ["useVersion", "v3"],
        ["phase", "idle", "New rules"],
        ["remote", "New rules"],
        ["ask"],
        ["start"],
        ["wantCall", False],
    ]


def test_the_next_limit_leaves_the_queue_and_looks_again_later(module_page):
    log = play(
        module_page,
        """
        phase.search();
        admission.refused({ code: 'rate_limited', message: 'Slow down', retry_after: 0.05 });
        await new Promise((resolve) => setTimeout(resolve, 300));
        """,
    )
    assert log == [
        ["phase", "searching", None],
        ["send", {"type": "leave"}],
        ["phase", "idle", "Slow down"],
        ["remote", "Slow down"],
        ["search", "join"],
    ]


def test_a_refused_solution_is_tried_again_a_few_times_then_given_up(module_page):
    log = play(
        module_page,
        """
        phase.search();
        for (let i = 0; i < 3; i += 1) {
          admission.refused({ code: 'pow_invalid', message: 'Bad work', challenge: { n: i } });
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        note('wantCall', phase.wantCall);
        """,
    )
    assert [entry[:2] for entry in log if entry[0] != "send"] == [
        ["phase", "searching"],
        ["pow.retry", {"n": 0}],
        ["pow.retry", {"n": 1}],
        ["pow.retry", {"n": 2}],
        ["phase", "idle"],
        ["wantCall", False],
    ]
    assert [entry[1]["type"] for entry in log if entry[0] == "send"] == ["join", "join"]


def test_interests_are_parsed_within_the_servers_limits(module_page):
    result = run(
        module_page,
        """
        const { parseInterests } = await import('/static/js/interests.js');
        const attempt = (text) => { try { return parseInterests(text); } catch (error) { return error.message; } };
        const texts = [' Chess, music ,chess,, ', 'a,b,c,d,e,f', 'x'.repeat(25), 'x'.repeat(24)];
        return texts.map(attempt);
        """,
    )
    assert result == [
        ["chess", "music"],
        "Up to 5 interests, please.",
        "Each interest can be at most 24 characters.",
        ["x" * 24],
    ]
