"""static/js/protocol.js mirrors meet.protocol: every value the browser holds is the server's."""

from __future__ import annotations

import re

import pytest

from meet import protocol
from tests.browser.module_page import STATIC, module_page, run

pytestmark = pytest.mark.browser

__all__ = ["module_page"]

# Every close code and error code the server may send: the browser must know them all.
ERROR_CODES = {
    "BAD_JSON",
    "BAD_MESSAGE",
    "TOO_LARGE",
    "NOT_MATCHED",
    "RATE_LIMITED",
    "UNAVAILABLE",
    "BANNED",
    "TOO_MANY_CONNECTIONS",
    "RULES_REQUIRED",
    "POW_REQUIRED",
    "POW_INVALID",
    "POW_EXPIRED",
    "RESUME_FAILED",
}
CLOSE_CODES = {name for name in vars(protocol) if name.startswith("CLOSE_")}


def mirrored(page) -> dict[str, object]:
    return run(page, "return { ...(await import('/static/js/protocol.js')) };")


def server_value(name: str) -> object:
    value = getattr(protocol, name)
    return list(value) if isinstance(value, tuple) else value


def test_every_value_in_protocol_js_is_the_servers(module_page):
    values = mirrored(module_page)
    assert values, "protocol.js exports nothing"
    for name, value in values.items():
        assert hasattr(protocol, name), f"protocol.js exports {name}, which meet.protocol does not define"
        expected = server_value(name)
        assert value == expected, f"{name}: protocol.js has {value!r}, meet.protocol {expected!r}"


def test_protocol_js_holds_every_close_and_error_code(module_page):
    values = mirrored(module_page)
    assert CLOSE_CODES and set(values) >= ERROR_CODES | CLOSE_CODES
    assert {name: values[name] for name in ERROR_CODES} == {name: getattr(protocol, name) for name in ERROR_CODES}


def test_the_limits_join_carries_are_mirrored(module_page):
    values = mirrored(module_page)
    for name in ("MAX_INTERESTS", "MAX_INTEREST_LENGTH", "MAX_LANGUAGES", "MAX_LANGUAGE_TAG_LENGTH"):
        assert values[name] == getattr(protocol, name)


def test_no_client_module_copies_a_close_code():
    """Close codes are written once, in protocol.js: every other module imports them."""
    codes = {str(getattr(protocol, name)) for name in CLOSE_CODES}
    for path in sorted((STATIC / "js").glob("*.js")):
        if path.name == "protocol.js":
            continue
        text = path.read_text(encoding="utf-8")
        copied = [code for code in codes if re.search(rf"\b{code}\b", text)]
        assert not copied, f"{path.name} copies close code(s) {copied}: import them from protocol.js"
