"""guanxi: a self-hosted command center for brands on Chinese social media."""

import os

__version__ = "0.1.0"

# The process that started this one, read before anything else loads: `guanxi worker
# --exit-with-parent` then notices a parent that died while the command was loading.
PARENT_PID = os.getppid()
