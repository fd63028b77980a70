import sys

from mlstrat.cli import main

sys.exit(main())
