import time

from sleekbatch.ttl_cache import TTLCache


def test_it_serves_an_entry_until_its_time_is_up(monkeypatch):
    # given
    now = [100.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    cache = TTLCache(ttl_seconds=10)
    cache.put("token", ("alias", (1,), frozenset()))

    # when / then
    now[0] += 9.9
    assert cache.get("token") == ("alias", (1,), frozenset())
    now[0] += 0.1
    assert cache.get("token") is None
    assert cache.get("token", "fallback") == "fallback"


def test_it_empties_itself_rather_than_grow_past_its_limit():
    # given
    cache = TTLCache(ttl_seconds=60, max_entries=2)
    cache.put("a", 1)
    cache.put("b", 2)

    # when: a third key; then a known key is only refreshed
    cache.put("c", 3)
    cache.put("c", 4)

    # then
    assert (cache.get("a"), cache.get("b"), cache.get("c"), len(cache)) == (None, None, 4, 1)


def test_it_forgets_everything_when_cleared_as_a_signal_receiver():
    cache = TTLCache(ttl_seconds=60)
    cache.put("a", 1)

    cache.clear(sender=object, instance=None)

    assert cache.get("a") is None
