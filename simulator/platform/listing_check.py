"""The periodic results check of ``abiquo-4.0.4``: ``listResults`` by the Cloud Provider Proxy.

One process runs the check with a *fixed delay* (``abiquo.backup.check.delay``, the next
check is scheduled after the previous one ended): ``listResults(lastCheckDate,
in-progress ids)``, upsert by provider id, then ``getExpiredResults`` for the done
results it holds (contract.md §4; ``expiry_question``), removing those confirmed. The
check has its own session slots, never the Virtual Factory's ``openSession`` ones (§4a).
``lastCheckDate`` becomes the instant the last *successful* check began.

From ``abiquo-4.7`` on the API runs the per-id check of
:mod:`simulator.platform.per_id_check` instead.
"""

from __future__ import annotations

from collections.abc import Generator
from itertools import filterfalse
from typing import TYPE_CHECKING, Any

import simpy

from simulator.contract import Operation
from simulator.platform.invoker import CallRecord
from simulator.platform.records import CheckRecord

if TYPE_CHECKING:
    from simulator.platform.core import Platform

__all__ = ["ListingCheck"]


class ListingCheck:
    """The ``abiquo-4.0.4`` results check of one platform."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    def run(self) -> Generator[simpy.Event, Any, None]:
        """The CPP's periodic process: a check every ``check_delay_s`` after the previous
        one ended, while the CPP loaded the plugin and until the checks are stopped."""
        platform = self.platform
        yield platform.ready
        yield platform.env.timeout(platform.settings.check_delay_s)
        while not platform.checks_stopped:
            if platform.plugin_loaded("cpp"):
                yield from self.check()
            # A fixed delay: the next check is scheduled after this one ends.
            yield platform.env.timeout(platform.settings.check_delay_s)

    def check(self) -> Generator[simpy.Event, Any, CheckRecord]:
        """Run one check: list results in the window, upsert them, expire the due ones."""
        platform = self.platform
        platform.checks += 1
        check_id = platform.checks
        platform._checking = True
        start = float(platform.env.now)
        began_at = platform.clock.now()
        window = platform.last_check_date
        in_progress = frozenset(platform.results.in_progress)
        instance = platform.instances["cpp"]
        list_call = yield from platform.invoker.call(
            "cpp",
            instance,
            Operation.LIST_RESULTS,
            None,
            (window, in_progress),
            pool=platform._cpp_pool,
            check=check_id,
        )
        ok = list_call.ok
        n_results = 0
        expired_call: CallRecord | None = None
        removed = 0
        if ok:
            n_results = platform._upsert(list_call.result, float(platform.env.now))
            platform.results_seen += n_results
            held_done = platform.settings.expiry_question == "held-done"
            due = (
                platform.results.done_for_expiry(platform.settings.expiry_rotation_checks)
                if held_done
                else platform.results.due_for_expiry(platform.clock.now())
            )
            reoffer = platform.results.reoffer_done if held_done else platform.results.reoffer
            if due and Operation.GET_EXPIRED_RESULTS not in platform._unsupported:
                expired_call = yield from platform.invoker.call(
                    "cpp",
                    instance,
                    Operation.GET_EXPIRED_RESULTS,
                    None,
                    (due,),
                    pool=platform._cpp_pool,
                    check=check_id,
                )
                if expired_call.ok:
                    # Split at C speed: a 4.0.4 check asks about tens of thousands of ids.
                    confirmed = set(expired_call.result)
                    removed = platform.results.remove_many(filter(confirmed.__contains__, due))
                    reoffer(list(filterfalse(confirmed.__contains__, due)))
                else:
                    ok = False
                    reoffer(due)
            elif due:
                reoffer(due)
        if ok:
            platform.last_check_date = began_at
        end = float(platform.env.now)
        record = CheckRecord(
            id=check_id,
            start=start,
            end=end,
            last_check_date=window,
            next_last_check_date=platform.last_check_date,
            in_progress=len(in_progress),
            results=n_results,
            expired=removed,
            ok=ok,
            list_call=list_call,
            expired_call=expired_call,
            calls=(list_call is not None) + (expired_call is not None),
        )
        platform.trace.emit(
            "poll",
            end,
            check=check_id,
            start=start,
            end=end,
            duration=end - start,
            last_check_date=window.isoformat() if window else None,
            next_last_check_date=(
                platform.last_check_date.isoformat() if platform.last_check_date else None
            ),
            in_progress=len(in_progress),
            results=n_results,
            expired=removed,
            ok=ok,
        )
        platform._checking = False
        for hook in platform.hooks.check_end:
            hook(record)
        return record
