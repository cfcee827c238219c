"""``python -m zkit``: the same as the ``zkit`` console script."""

import sys

from .cli import main

sys.exit(main())
