// Protocol version 1 of /ws/meet/ (docs/protocol.md) as the browser needs it: the limits, error
// codes and close codes of meet/protocol/ (limits.py), under the same names. A test holds every
// value here equal to the server's, so change both together; client modules import these rather
// than copy them.

export const PROTOCOL_VERSION = 1;

// What `join` may carry.
export const MAX_INTERESTS = 5;
export const MAX_INTEREST_LENGTH = 24;
export const MAX_LANGUAGES = 3;
export const MAX_LANGUAGE_TAG_LENGTH = 35;
export const MAX_MATCH_ID_LENGTH = 64;
export const MAX_RULES_VERSION_LENGTH = 32;
export const MAX_SIGNAL_BYTES = 64 * 1024;

// A report and its evidence.
export const REPORT_REASONS = ["nudity", "harassment", "spam", "underage", "other"];
export const MAX_SNAPSHOT_BYTES = 128 * 1024;
export const MAX_REPORT_CHAT_LINES = 20;
export const MAX_REPORT_CHAT_LENGTH = 1000;

// How a call connected (connection_report), and the longest time it may report.
export const CONNECTION_OUTCOMES = ["direct", "relay_udp", "relay_tcp", "relay_tls", "failed"];
export const MAX_CONNECT_MS = 600_000;

// Reasons a partner_left carries.
export const LEFT_NEXT = "next";
export const LEFT_LEAVE = "leave";
export const LEFT_DISCONNECT = "disconnect";

// Error codes: the `code` of an `error` frame.
export const BAD_JSON = "bad_json";
export const BAD_MESSAGE = "bad_message";
export const TOO_LARGE = "too_large";
export const NOT_MATCHED = "not_matched";
export const RATE_LIMITED = "rate_limited";
export const UNAVAILABLE = "unavailable";
export const BANNED = "banned";
export const TOO_MANY_CONNECTIONS = "too_many_connections";
export const RULES_REQUIRED = "rules_required";
export const POW_REQUIRED = "pow_required";
export const POW_INVALID = "pow_invalid";
export const POW_EXPIRED = "pow_expired";
export const RESUME_FAILED = "resume_failed";

// WebSocket close codes.
export const CLOSE_BANNED = 4003;
export const CLOSE_FLOODING = 4008;
// A newer connection of ours resumed this one's match.
export const CLOSE_SUPERSEDED = 4010;
export const CLOSE_SHUTDOWN = 4012;
// Turned away at the door: too many connections from this address (the `error` before it says why).
export const CLOSE_TOO_MANY_CONNECTIONS = 4029;
