"""``python -m skcrowd``: the command line (see :func:`skcrowd._cli.main`).

Nothing heavier than the standard library is imported here; torch never is.
"""

import sys

from ._cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
