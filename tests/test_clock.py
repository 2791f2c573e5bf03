"""SimClock: simulated instants follow the environment, to the microsecond."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.clock import DEFAULT_START, SimClock


# No deadline: what is tested is the instants, and a busy machine makes any example slow.
@settings(deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=10 * 86400), min_size=1, max_size=20))
def test_now_follows_the_environment_across_steps(delays: list[float]) -> None:
    # now() keeps the last instant it computed; it must never answer a stale one.
    env = simpy.Environment()
    clock = SimClock(env)
    seen: list[tuple[float, datetime, datetime]] = []

    def ask() -> simpy.events.ProcessGenerator:
        for delay in delays:
            yield env.timeout(delay)
            seen.append((env.now, clock.now(), clock.now()))

    env.process(ask())
    env.run()
    for t, first, again in seen:
        assert first == again == DEFAULT_START + timedelta(seconds=t)
        assert clock.seconds(first) == timedelta(seconds=t).total_seconds()


def test_now_before_any_step_is_the_start_in_utc() -> None:
    start = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    clock = SimClock(simpy.Environment(), start)
    assert clock.now() == start
    assert clock.now().tzinfo is UTC
