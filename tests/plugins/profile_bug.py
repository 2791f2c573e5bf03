"""A plugin whose bug shows under one profile only, for replays that must name the profile.

It declares every contract profile, so a run without ``--profile`` drives it as the
newest, ``abiquo-6.0``, which never calls ``list_results``; under ``abiquo-4.0.4`` its
answers repeat provider ids.
"""

from __future__ import annotations

from typing import ClassVar

from conformance.selftest.polling import DuplicateIdsPlugin
from simulator.profiles import PROFILE_IDS


class DuplicatesUnder404(DuplicateIdsPlugin):
    """``list_results`` repeats ids (``polling.unique-ids-per-answer``); every profile declared."""

    contract_profiles: ClassVar[tuple[str, ...]] = PROFILE_IDS
