"""`python -m mscal.cli`: the same as the `mscal` command."""

import sys

from mscal.cli.main import main

sys.exit(main())
