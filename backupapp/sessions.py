"""Sessions read from the shared cache, that keep working from the database while it is down.

Django's `cached_db` store falls back to the database when reading from the cache fails, but not
when writing the session it just read back into the cache, nor when deleting it: with Redis
down, every page would fail. Here the database stays the source of truth and the cache only
spares a query, so every cache error is logged and passed over.
"""

import logging
from typing import Any

from django.contrib.sessions.backends import cached_db

logger = logging.getLogger(__name__)


class SessionStore(cached_db.SessionStore):
    def load(self) -> dict[str, Any]:
        try:
            data = self._cache.get(self.cache_key)
        except Exception:  # the backends raise their own types (redis, memcached, ...)
            logger.warning("session cache unreadable; reading the session from the database")
            data = None
        if data is not None:
            return data
        stored = self._get_session_from_db()
        if not stored:
            return {}
        data = self.decode(stored.session_data)
        try:
            self._cache.set(self.cache_key, data, self.get_expiry_age(expiry=stored.expire_date))
        except Exception:
            logger.warning("session cache unwritable; the session stays in the database")
        return data

    def exists(self, session_key: str) -> bool:
        # Asked only when a new key is drawn: the database alone is the authority on that.
        return super(cached_db.SessionStore, self).exists(session_key)

    def delete(self, session_key: str | None = None) -> None:
        # The database first: once the row is gone the session is over, whatever the cache says
        # after its restart (Redis here keeps nothing on disk).
        session_key = session_key or self.session_key
        super(cached_db.SessionStore, self).delete(session_key)
        if session_key is None:
            return
        try:
            self._cache.delete(self.cache_key_prefix + session_key)
        except Exception:
            logger.error("a signed-out session could not be removed from the cache")
