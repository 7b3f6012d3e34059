"""backupapp/cache.py: Django's Redis cache, one client per pool, on a real Redis."""

import pytest
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache

from backupapp.cache import RedisCache


@pytest.fixture
def cache(redis_server):
    if redis_server is None:
        pytest.fail("redis-server is not installed (scripts/services ensure installs it)")
    made = RedisCache(f"{redis_server.url.rsplit('/', 1)[0]}/3", {"KEY_PREFIX": "t-cache"})
    yield made
    made.clear()


def test_it_stores_and_reads_as_djangos_and_keeps_one_client(cache):
    cache.set("a", {"rows": (1, 2)}, 60)
    cache.set_many({"b": 2, "c": [3]}, 60)
    assert cache.get("a") == {"rows": (1, 2)}
    assert cache.get_many(["a", "b", "c", "missing"]) == {"a": {"rows": (1, 2)}, "b": 2, "c": [3]}
    first = cache._cache.get_client("a")
    assert cache._cache.get_client("b", write=True) is first
    # Django's own makes a new client at every call.
    djangos = DjangoRedisCache(cache._servers, {})
    assert djangos._cache.get_client("a") is not djangos._cache.get_client("a")


def test_settings_use_it_for_a_redis_cache_url(monkeypatch):
    import importlib

    from backupapp import settings as project_settings

    monkeypatch.setenv("CACHE_URL", "redis://127.0.0.1:1/1")
    try:
        reloaded = importlib.reload(project_settings)
        assert reloaded.CACHES["default"]["BACKEND"] == "backupapp.cache.RedisCache"
        assert reloaded.SESSION_ENGINE == "backupapp.sessions"
    finally:
        monkeypatch.delenv("CACHE_URL")
        importlib.reload(project_settings)
