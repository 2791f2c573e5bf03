"""``python -m conformance`` is ``bpcert``, and :func:`entry` is its console script.

The commands that run simulations run under a supervisor (:mod:`conformance.supervisor`),
which imports nothing of bpcert's: the command line is imported only where it runs.
"""

import sys

from conformance.supervisor import supervise


def _main(argv: list[str]) -> int:
    from conformance.cli import main

    return main(argv)


def entry() -> None:
    """Run ``bpcert`` with the process's arguments, and exit with its code."""
    sys.exit(supervise(sys.argv[1:], _main))


if __name__ == "__main__":
    entry()
