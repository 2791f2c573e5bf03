"""``--rules`` and ``--skip`` that select nothing are usage errors, never an empty pass.

A glob with a typo (``polling.uniq-ids*``) would otherwise select no rule, and a check of
no rule is "conformant" with nothing judged. So every ``--rules`` glob must match at least
one rule, and the ``--skip`` globs must leave at least one; the message names the glob and
suggests the closest rule ids.
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Iterable

from conformance.rules import RULES, Rule, select_rules
from conformance.usage import UsageError

__all__ = ["checked_selection", "close_rule_ids"]


def close_rule_ids(glob: str, n: int = 3) -> list[str]:
    """The rule ids closest to ``glob`` (its wildcards dropped), best first."""
    ids = [r.id for r in RULES]
    bare = glob.replace("*", "").replace("?", "").strip(".")
    close = difflib.get_close_matches(bare, ids, n=n, cutoff=0.5)
    if len(close) < n:
        # "polling.uniq" is closer to the ids that start like it than to any whole id.
        prefix = [i for i in ids if bare and i.startswith(bare.split("-")[0]) and i not in close]
        close += difflib.get_close_matches(bare, prefix, n=n - len(close), cutoff=0.0)
    return close


def _hint(glob: str) -> str:
    close = close_rule_ids(glob)
    if not close:
        return "; `bpcert rules` lists every rule id"
    return f"; did you mean {', '.join(repr(c) for c in close)}? (`bpcert rules` lists them all)"


def checked_selection(include: Iterable[str] = (), exclude: Iterable[str] = ()) -> list[Rule]:
    """The rules ``include`` and ``exclude`` select, or :class:`UsageError` if none is left.

    Every include glob must match a rule id on its own, so that a typo in one of several
    globs is not hidden by the others.
    """
    include, exclude = list(include), list(exclude)
    for glob in include:
        if not any(fnmatch.fnmatchcase(r.id, glob) for r in RULES):
            raise UsageError(f"--rules {glob!r} matches no rule id{_hint(glob)}")
    selected = select_rules(include, exclude)
    if not selected:
        chosen = len(select_rules(include))
        skips = " ".join(f"--skip {g!r}" for g in exclude)
        raise UsageError(
            f"{skips} leaves no rule to check (it skips all {chosen} rules selected); "
            "a check of no rule would certify nothing"
        )
    return selected
