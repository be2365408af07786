"""parse_frame skips the walk over a frame's values when its text shows nothing to refuse; it must
refuse exactly what the walk refuses (deep nesting, lone surrogates, unsafe integers, infinities)."""

import json

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from meet import protocol
from meet.protocol.frames import _check_values

# Lone surrogates (escaped by json.dumps), the edge of safe integers, and floats that overflow.
texts = st.text(alphabet=st.characters(min_codepoint=0xD7F0, max_codepoint=0xE010) | st.sampled_from('ab\\"é👽u'))
numbers = (
    st.integers(min_value=2**53 - 3, max_value=2**53 + 3)
    | st.integers(min_value=-(2**53) - 3, max_value=-(2**53) + 3)
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
)
values = st.recursive(
    st.none() | st.booleans() | numbers | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=24,
)


def reference(text: str) -> str | None:
    """The error code the full walk gives a signal frame's text, or None when it is accepted."""
    try:
        message = json.loads(text)
    except RecursionError:
        return protocol.BAD_MESSAGE
    try:
        _check_values(message)
    except protocol.ProtocolError as error:
        return error.code
    return None


def outcome(text: str) -> str | None:
    try:
        protocol.parse_frame(text)
    except protocol.ProtocolError as error:
        return error.code
    return None


@hsettings(max_examples=400, deadline=None)
@given(data=values, ascii_only=st.booleans())
def test_parse_frame_refuses_what_the_full_check_refuses(data, ascii_only):
    text = json.dumps({"type": "signal", "match_id": "m", "data": {"d": data}}, ensure_ascii=ascii_only)
    assert outcome(text) == reference(text)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ('{"type":"signal","match_id":"m","data":{"n":9007199254740992}}', protocol.BAD_MESSAGE),
        ('{"type":"signal","match_id":"m","data":{"n":-9007199254740992}}', protocol.BAD_MESSAGE),
        ('{"type":"signal","match_id":"m","data":{"n":9007199254740991}}', None),
        ('{"type":"signal","match_id":"m","data":{"n":1e999}}', protocol.BAD_MESSAGE),
        ('{"type":"signal","match_id":"m","data":{"n":-1e999}}', protocol.BAD_MESSAGE),
        ('{"type":"signal","match_id":"m","data":{"n":1e308}}', None),
        # A surrogate pair is one character (an emoji); half of one is refused, in a key too.
        ('{"type":"signal","match_id":"m","data":{"s":"\\ud83d\\udc7d"}}', None),
        ('{"type":"signal","match_id":"m","data":{"s":"\\ud83d"}}', protocol.BAD_MESSAGE),
        ('{"type":"signal","match_id":"m","data":{"\\uDC7D":1}}', protocol.BAD_MESSAGE),
        # An escaped backslash followed by "ud800" is plain text.
        ('{"type":"signal","match_id":"m","data":{"s":"\\\\ud800"}}', None),
        ('{"type":"signal","match_id":"m","data":{"s":"\ud800"}}', protocol.BAD_MESSAGE),
        # The frame is the first level, data the second: 14 more are allowed.
        ('{"type":"signal","match_id":"m","data":{"a":' + "[" * 14 + "]" * 14 + "}}", None),
        ('{"type":"signal","match_id":"m","data":{"a":' + "[" * 15 + "]" * 15 + "}}", protocol.BAD_MESSAGE),
        # Brackets inside strings are no nesting.
        ('{"type":"signal","match_id":"m","data":{"s":"' + "[{" * 40 + '"}}', None),
    ],
)
def test_values_at_the_limits(text, code):
    assert outcome(text) == code
