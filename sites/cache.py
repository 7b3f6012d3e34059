"""What pages keep in the cache: a saving, never a dependency.

Pages keep each site's state (data that does not depend on who looks, never HTML) under
the site's version (pages/state.py). With the cache unreachable (Redis down) it is read afresh:
a page gets slower, never fails. Every failure is logged once per call and passed over.
"""

import logging
from typing import Any

from django.core.cache import cache

logger = logging.getLogger(__name__)


def get_many(keys: list[str]) -> dict[str, Any]:
    try:
        return cache.get_many(keys)
    except Exception:  # each backend raises its own types (redis, memcached, ...)
        logger.warning("cache unreadable; the page reads the database instead")
        return {}


def set_many(values: dict[str, Any], timeout: float) -> None:
    try:
        cache.set_many(values, timeout)
    except Exception:
        logger.warning("cache unwritable; the page is not kept")
