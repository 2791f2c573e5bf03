"""The reference plugin declaring every contract profile, for tests that drive 4.7 and 6.0."""

from __future__ import annotations

from typing import ClassVar

from simulator.profiles import PROFILE_IDS
from simulator.reference import ReferencePlugin


class ReferenceSpeaksAll(ReferencePlugin):
    """The reference plugin, declaring abiquo-4.0.4, abiquo-4.7 and abiquo-6.0."""

    contract_profiles: ClassVar[tuple[str, ...]] = PROFILE_IDS


class ReferenceSpeaks60(ReferencePlugin):
    """The reference plugin, declaring only abiquo-6.0."""

    contract_profiles: ClassVar[tuple[str, ...]] = ("abiquo-6.0",)
