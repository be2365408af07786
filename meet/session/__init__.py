"""A visitor's call as a plain object (``CallSession``), with no socket and no Channels in it.

``call_session``: the session and its rules; ``place``: where the visitor stands in matchmaking;
``reports``: reports and connection counts; ``admittance``: frame rate, rules and proof of work;
``next_limit``: how many strangers a minute may be skipped; ``matches``: the current and recent matches;
``resume_tokens``: proof that a new socket may take a match over; ``messages``: the channel-layer
messages between connections; ``ports``: the interfaces the consumer (or a test) provides.
"""
