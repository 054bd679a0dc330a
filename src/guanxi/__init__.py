"""guanxi: a self-hosted command center for brands on Chinese social media."""

import os

__version__ = "0.1.0"

# The process that started this one, read before anything slow is imported: a worker run
# with --exit-with-parent whose parent dies while the command loads (seconds on a busy
# machine) has been handed to init by the time it could ask.
STARTED_BY = os.getppid()
