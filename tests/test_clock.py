"""SimClock: simulated instants follow the environment, to the microsecond."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.clock import DEFAULT_START, SimClock, hold


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


def _timeline(use_hold: bool, delays: list[float], others: list[float]) -> list[tuple[str, float]]:
    """What two processes log when one holds simulated time with ``hold`` (or timeouts)."""
    env = simpy.Environment()
    log: list[tuple[str, float]] = []

    def holder() -> simpy.events.ProcessGenerator:
        for delay in delays:
            if use_hold:
                wait = hold(env, delay)
                if wait is not None:
                    yield wait
            else:
                yield env.timeout(delay)
            log.append(("holder", env.now))
        yield env.timeout(0)

    def other() -> simpy.events.ProcessGenerator:
        for delay in others:
            yield env.timeout(delay)
            log.append(("other", env.now))

    env.process(holder())
    env.process(other())
    env.run(until=sum(delays) / 2 + 1.0)
    log.append(("end", env.now))
    return log


@given(
    st.lists(st.floats(min_value=0.001, max_value=100), min_size=1, max_size=15),
    st.lists(st.sampled_from([0.05, 0.1, 1.0, 7.5, 50.0]), max_size=15),
)
def test_hold_gives_the_same_timeline_as_a_timeout(
    delays: list[float], others: list[float]
) -> None:
    # Same order, same instants, the run's end included: only the events differ.
    assert _timeline(True, delays, others) == _timeline(False, delays, others)


def test_hold_makes_no_event_when_nothing_else_is_due() -> None:
    env = simpy.Environment()
    assert hold(env, 2.5) is None and env.now == 2.5
    env.timeout(1.0)  # due at 3.5: a hold past it must wait for it
    assert hold(env, 0.5) is None and env.now == 3.0
    assert hold(env, 0.5) is not None and env.now == 3.0
