"""``python -m lossgrad`` is the ``lossgrad`` command."""

from .cli import main

if __name__ == "__main__":  # pytest's doctest collection imports this module: run only as a script
    raise SystemExit(main())
