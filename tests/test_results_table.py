"""The platform's results table: upserts, transitions and the expiry queue."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.contract import BackupResult, BackupType, ResultState
from simulator.platform.results_table import ResultsTable

_T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _done(pid: str, expires: datetime, vm: str = "vm-1") -> BackupResult:
    return BackupResult(
        provider_id=pid,
        vm_uuid=vm,
        name=pid,
        type=BackupType.COMPLETE,
        state=ResultState.DONE,
        creation_date=_T0,
        finish_date=_T0,
        expiration_date=expires,
    )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 3 * 86400 * 10**6), min_size=1, max_size=60),
    st.lists(st.integers(0, 4 * 86400 * 10**6), min_size=1, max_size=20),
)
def test_due_for_expiry_hands_out_exactly_the_passed_instants_in_order(
    offsets_us: list[int], checks_us: list[int]
) -> None:
    table = ResultsTable()
    expiry = {f"bk-{i:04d}": _T0 + timedelta(microseconds=us) for i, us in enumerate(offsets_us)}
    for pid, at in expiry.items():
        table.upsert(_done(pid, at), 0.0)
    handed: list[str] = []
    for now_us in sorted(checks_us):
        now = _T0 + timedelta(microseconds=now_us)
        due = table.due_for_expiry(now)
        assert all(expiry[pid] <= now for pid in due)
        assert due == sorted(due, key=lambda pid: (expiry[pid], pid))
        handed.extend(due)
        # Everything passed by now was handed out, now or earlier; nothing else was.
        assert set(handed) == {pid for pid, at in expiry.items() if at <= now}
    assert len(handed) == len(set(handed))


def test_reoffered_ids_come_back_at_the_next_check_and_removed_ones_do_not() -> None:
    table = ResultsTable()
    rng = random.Random(3)
    for i in range(200):
        at = _T0 + timedelta(seconds=rng.randrange(0, 7200))
        table.upsert(_done(f"bk-{i:04d}", at, vm=f"vm-{i % 7}"), 0.0)
    first = table.due_for_expiry(_T0 + timedelta(hours=1))
    assert first
    kept, gone = first[::2], first[1::2]
    for pid in gone:
        assert table.remove(pid)
    table.reoffer(kept)
    again = table.due_for_expiry(_T0 + timedelta(hours=1, seconds=1))
    assert set(kept) <= set(again) and not set(gone) & set(again)
    assert len(table) == 200 - len(gone)


def test_an_in_progress_result_seen_again_raises_nothing_and_its_end_raises_one_event() -> None:
    table = ResultsTable()
    running = _done("bk-1", _T0 + timedelta(days=1)).model_copy(
        update={"state": ResultState.IN_PROGRESS, "finish_date": None, "expiration_date": None}
    )
    assert not table.upsert(running, 1.0)
    assert not table.upsert(running, 2.0)
    assert table.in_progress_for_vm("vm-1") == 1 and "bk-1" in table.in_progress
    [transition] = table.upsert(_done("bk-1", _T0 + timedelta(days=1)), 3.0)
    assert transition.event == "SCHEDULED_BACKUP" and transition.state is ResultState.DONE
    assert table.in_progress_for_vm("vm-1") == 0 and "bk-1" not in table.in_progress
    assert not table.upsert(_done("bk-1", _T0 + timedelta(days=1)), 4.0)
    assert table.by_id["bk-1"].final_seen == 3.0


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        # (push?, instant or step, drain with pop_all_due rather than pop_due?)
        st.tuples(st.booleans(), st.integers(0, 10_000), st.booleans()),
        max_size=120,
    )
)
def test_a_calendar_queue_pops_what_one_heap_would(
    script: list[tuple[bool, int, bool]],
) -> None:
    import heapq

    from simulator.calendar_queue import CalendarQueue

    queue: CalendarQueue[tuple[int, int]] = CalendarQueue(lambda t: t // 60)
    heap: list[tuple[int, int]] = []
    now = 0
    for seq, (push, value, bulk) in enumerate(script):
        if push:
            entry = (max(0, now - 300) + value, seq)  # re-offers may lie in the past
            queue.push(entry)
            heapq.heappush(heap, entry)
        else:
            now += value // 10
            due = []
            while heap and heap[0][0] <= now:
                due.append(heapq.heappop(heap))
            if bulk:
                assert queue.pop_all_due(now) == due
            else:
                assert [queue.pop_due(now) for _ in due] == due
            assert queue.pop_due(now) is None
    assert len(queue) == len(heap)


def test_the_done_rotation_asks_each_done_result_in_turn_and_follows_removals() -> None:
    # 4.0.4's getExpiredResults question: a share of the done results each check, in
    # rotation; one removed and listed again is asked about as the result now held.
    table = ResultsTable()
    expires = _T0 + timedelta(days=7)
    for pid in ("bk-1", "bk-2", "bk-3", "bk-4"):
        table.upsert(_done(pid, expires), 0.0)
    assert table.done_for_expiry(2) == ["bk-1", "bk-2"]
    table.reoffer_done(["bk-2"])  # bk-1 confirmed expired, bk-2 not
    table.remove_many(["bk-1"])
    assert table.done_for_expiry(2) == ["bk-3", "bk-4"]
    table.reoffer_done(["bk-3", "bk-4"])
    table.remove_many(["bk-3"])  # gone while waiting for its turn...
    table.upsert(_done("bk-3", expires), 1.0)  # ... and listed again, done: a new turn
    table.upsert(_done("bk-1", expires), 1.0)
    assert table.done_for_expiry(1) == ["bk-2", "bk-3", "bk-4", "bk-3", "bk-1"]
    table.reoffer_done(["bk-4", "bk-unknown"])
    assert table.done_for_expiry(1) == ["bk-4"]


def test_a_table_that_only_rotates_keeps_no_expiry_queue() -> None:
    # 4.0.4's held-done check asks in rotation and never by date: the dated queue would
    # only grow (every done backup of the run), so such a table keeps none.
    table = ResultsTable(rotate_done=True, expire_by_date=False)
    for pid in ("bk-1", "bk-2"):
        table.upsert(_done(pid, _T0 + timedelta(hours=1)), 0.0)
    assert table.due_for_expiry(_T0 + timedelta(days=1)) == []
    assert table.done_for_expiry(1) == ["bk-1", "bk-2"]
