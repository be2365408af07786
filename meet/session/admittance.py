"""What one connection must pass before its frames and its first step into the queue are taken.

Frames: a token bucket, and a connection that keeps flooding past it is closed. The queue: every
join names the current rules, and the connection's first step brings a solved proof of work
(``meet.gate.admission``); asking to be refused over and over is a flood like any other.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from meet import protocol
from meet.gate import admission
from meet.gate.ratelimit import FloodMeter, TokenBucket
from meet.session.ports import Outbox

logger = logging.getLogger("alienmeet.meet")


class Admittance:
    def __init__(self, ip_hash: str, outbox: Outbox) -> None:
        conf = settings.MEET
        self.ip_hash = ip_hash
        self.outbox = outbox
        self.bucket = TokenBucket(conf["RATE_PER_SECOND"], conf["RATE_BURST"])
        self.flood = FloodMeter(conf["FLOOD_CLOSE_AFTER"])
        self.admitted = False  # rules accepted and proof of work done, on this connection
        # Replaced by one sized for the address before hello; until then the hardest.
        self.pow = admission.ConnectionChallenge(settings.ADMISSION["POW_BUSY_MAX_NUMBER"])

    async def challenge(self) -> dict[str, Any]:
        """This connection's proof-of-work challenge, sized for its address (for hello)."""
        self.pow = admission.ConnectionChallenge(await admission.difficulty(self.ip_hash))
        return self.pow.current()

    def allow_frame(self) -> bool:
        """Whether to read one more frame: a plain call, as it is asked for every frame."""
        return self.bucket.allow()

    async def frame_allowed(self) -> bool:
        """Whether to read one more frame; past the rate, a warning at most once a second, then the close."""
        if self.bucket.allow():
            return True
        await self.frame_refused()
        return False

    async def frame_refused(self) -> None:
        """A frame past the rate: a warning at most once a second, and the close for a flood."""
        if self.flood.refuse():
            logger.info("event=closed_for_flooding")
            await self.outbox.close(protocol.CLOSE_FLOODING)
        elif self.flood.should_warn():
            text = self.outbox.translate(_("Too many messages; slow down."))
            await self.outbox.send(protocol.error(protocol.RATE_LIMITED, text))

    async def admit(self, command: protocol.Join | protocol.Next) -> bool:
        """Every join names the current rules; the first step into the queue also brings a proof of work."""
        if self.admitted and isinstance(command, protocol.Next):
            return True
        refusal = admission.check_rules(command.rules)
        if refusal is None and not self.admitted:
            refusal = await self.pow.check(command.pow)
        if refusal is None:
            self.admitted = True
            return True
        if self.flood.refuse():
            logger.info("event=closed_for_flooding reason=admission")
            await self.outbox.close(protocol.CLOSE_FLOODING)
            return False
        text = self.outbox.translate(refusal.message)
        if refusal.code == protocol.RULES_REQUIRED:
            await self.outbox.send(protocol.error(refusal.code, text, rules=admission.rules_version()))
        else:
            # The connection's challenge (a new one once it expired), so the browser can try again
            # without reconnecting.
            await self.outbox.send(protocol.error(refusal.code, text, challenge=self.pow.current()))
        return False
