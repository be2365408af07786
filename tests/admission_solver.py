"""What a browser does before joining, for the Python test clients: accept the rules and solve the challenge."""

from __future__ import annotations

from typing import Any

from altcha import solve_challenge_v1

ADMISSION_TYPES = ("join", "next")


def solve(challenge: dict[str, Any]) -> dict[str, Any]:
    """The ``pow`` field for a ``hello``'s ALTCHA challenge."""
    solution = solve_challenge_v1(
        challenge["challenge"], challenge["salt"], challenge["algorithm"], challenge["maxNumber"]
    )
    assert solution is not None, f"challenge has no solution: {challenge}"
    return {name: challenge[name] for name in ("algorithm", "challenge", "salt", "signature")} | {
        "number": solution.number
    }


class Admission:
    """Adds ``rules`` and ``pow`` to join and next frames that do not set them (solved once per connection)."""

    def __init__(self, hello: dict[str, Any]) -> None:
        self.rules = hello.get("rules")
        self.challenge = hello.get("challenge")
        self._solution: dict[str, Any] | None = None

    def stamp(self, message: dict[str, Any]) -> dict[str, Any]:
        if message.get("type") not in ADMISSION_TYPES or not self.challenge:
            return message
        if self._solution is None:
            self._solution = solve(self.challenge)
        return {"rules": self.rules, "pow": self._solution, **message}
