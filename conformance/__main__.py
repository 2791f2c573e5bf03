"""``python -m conformance`` is ``bpcert``, and :func:`entry` is its console script.

The commands that run simulations run under a supervisor (:mod:`conformance.supervisor`),
which imports nothing of bpcert's: the command line is imported only where it runs.
"""

import os
import sys

from conformance.supervisor import supervise


def _main(argv: list[str]) -> int:
    from conformance.cli import main

    return main(argv)


def _import_from_the_working_directory() -> None:
    """Put the working directory first on ``sys.path``, as ``python -m conformance`` does.

    A console script's ``sys.path`` starts with the script's own folder (``.venv/bin``),
    so ``--plugin vendor_plugin:Plugin`` for a module in the project root would load with
    ``python -m conformance`` and not with ``bpcert``. ``-P`` (``PYTHONSAFEPATH``) keeps
    the working directory off, for both.
    """
    if sys.flags.safe_path:
        return
    try:
        cwd = os.getcwd()
    except OSError:  # the working directory was removed: nothing there to import
        return
    if cwd not in sys.path:
        sys.path.insert(0, cwd)


def entry() -> None:
    """Run ``bpcert`` with the process's arguments, and exit with its code."""
    _import_from_the_working_directory()
    sys.exit(supervise(sys.argv[1:], _main))


if __name__ == "__main__":
    entry()
