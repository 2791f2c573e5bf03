"""A plugin whose ``validate_configuration`` never fails: the missing-property rule must catch it.

It is the reference with validation left out, so it accepts missing, empty and invalid
properties, and only fails later, inside an operation that needs them.
"""

from __future__ import annotations

from simulator.reference import ReferencePlugin


class ValidatesNothingPlugin(ReferencePlugin):
    """The reference, with a validate_configuration that accepts anything."""

    def validate_configuration(self) -> None:
        """Accept every configuration."""
