"""What a browser may say of how its side of a call connected: the statistics count these, the protocol checks them."""

from __future__ import annotations

# How a browser's side of a call connected (connection_report); each is a ConnectionBucket field.
OUTCOME_FIELDS = ("direct", "relay_udp", "relay_tcp", "relay_tls", "failed")
# The longest time to connect a browser may report, in milliseconds.
MAX_CONNECT_MS = 600_000
