import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from kilat.platform.ratelimit import (
    MemoryRateLimiter,
    RedisRateLimiter,
    build_rate_limiter,
    seconds_left,
)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def hits(limiter, key, times):
    return [await limiter.hit(key) for _ in range(times)]


async def test_allows_up_to_the_limit_then_refuses_until_the_window_ends():
    clock = Clock(60 * 16_667 + 20.0)
    limiter = MemoryRateLimiter(3, 60, clock=clock)
    assert await hits(limiter, "1.2.3.4", 3) == [(True, 0)] * 3
    assert await limiter.hit("1.2.3.4") == (False, 40)
    clock.now += 39.5
    assert await limiter.hit("1.2.3.4") == (False, 1)


async def test_new_window_starts_a_fresh_count():
    clock = Clock(60 * 100 + 59.0)
    limiter = MemoryRateLimiter(2, 60, clock=clock)
    await hits(limiter, "a", 3)
    clock.now = 60 * 101
    assert await limiter.hit("a") == (True, 0)
    assert await limiter.hit("a") == (True, 0)
    assert await limiter.hit("a") == (False, 60)


async def test_steady_traffic_is_reset_each_window():
    clock = Clock(60 * 200)
    limiter = MemoryRateLimiter(5, 60, clock=clock)
    outcomes = []
    for _ in range(30):  # one request every 10 s: 6 per window, steady
        outcomes.append((await limiter.hit("k"))[0])
        clock.now += 10
    assert outcomes == [True, True, True, True, True, False] * 5


async def test_keys_are_counted_separately():
    limiter = MemoryRateLimiter(1, 60, clock=Clock(60 * 300 + 1))
    assert (await limiter.hit("a"))[0] is True
    assert (await limiter.hit("b"))[0] is True
    assert (await limiter.hit("a"))[0] is False


async def test_memory_holds_only_the_current_window():
    clock = Clock(60 * 400)
    limiter = MemoryRateLimiter(10, 60, clock=clock)
    for i in range(50):
        await limiter.hit(f"client-{i}")
    clock.now += 60
    await limiter.hit("late")
    assert limiter._counts == {"late": 1}


@pytest.mark.parametrize(("now", "left"), [(120.0, 60), (120.2, 60), (179.0, 1), (179.9, 1),
                                           (150.0, 30)])
def test_seconds_left_is_whole_seconds_at_least_one(now, left):
    assert seconds_left(now, 60) == left


class BrokenRedis:
    def pipeline(self, transaction=True):
        raise RedisConnectionError("connection refused")


async def test_redis_limiter_fails_open_when_redis_is_unreachable():
    limiter = RedisRateLimiter(BrokenRedis(), 1, 60)
    assert await hits(limiter, "k", 3) == [(True, 0)] * 3


def test_redis_keys_carry_the_window_so_they_expire_with_it():
    limiter = RedisRateLimiter(BrokenRedis(), 5, 60, prefix="p")
    assert limiter.key_for("10.0.0.1", 60 * 7 + 5) == "p:7:10.0.0.1"


def test_limit_zero_disables_and_redis_is_used_when_given():
    assert build_rate_limiter(0) is None
    assert isinstance(build_rate_limiter(100), MemoryRateLimiter)
    assert isinstance(build_rate_limiter(100, BrokenRedis()), RedisRateLimiter)
