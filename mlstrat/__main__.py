"""``python -m mlstrat ...``: the same as the ``mlstrat`` command."""

import sys

from mlstrat.cli import main

sys.exit(main())
