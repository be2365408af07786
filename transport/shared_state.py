"""Where the state every process must agree on lives: Redis when the site has one, else this process's memory.

This is the one place the choice is made, for every pair of backends: matchmaking
(``matchmaking/``), address limits and admission (``meet/gate/``), report windows and report
forwarding (``moderation/``) and the channel layer (``alienmeet_site/env.py``). A site with
``REDIS_URL`` set shares all of them; one without keeps all of them in memory, which is only
right for a single process.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.conf import settings

from transport.per_loop import PerLoop

MEMORY = "memory"
REDIS = "redis"

# The channel layer for each choice (settings name it by its dotted path).
CHANNEL_LAYERS = {
    MEMORY: "transport.memory_layer.SweepingInMemoryChannelLayer",
    REDIS: "transport.layer.ResilientRedisChannelLayer",
}

T = TypeVar("T")
M = TypeVar("M")


def backend_for(redis_url: str) -> str:
    """The choice a site makes from its settings: Redis as soon as it has one."""
    return REDIS if redis_url else MEMORY


def shared_redis() -> tuple[str, str] | None:
    """The shared Redis and the key prefix of this site's state, or None when state stays in memory."""
    conf = settings.MATCHMAKER
    if conf["BACKEND"] != REDIS:
        return None
    return conf["URL"], conf.get("PREFIX", "")


def shared_or_memory(memory: M, per_loop: PerLoop[T], make: Callable[[str, str], T]) -> M | T:
    """State shared by every process (``make(url, prefix)``, one per event loop), or this process's ``memory``."""
    where = shared_redis()
    if where is None:
        return memory
    return per_loop.get(where, lambda: make(*where))
