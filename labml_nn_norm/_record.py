"""
What a saved measurement records about the run that made it, so that a page can say when, on
what and with which versions its numbers were measured.
(Not a page: files whose name starts with one underscore are skipped by the generator.)
"""

import platform
import time
from datetime import datetime, timezone

import torch


def run_record(command: str, start: float) -> dict:
    """The command, the date (UTC), the PyTorch and Python versions, the number of threads and
    the wall time since `start` (a `time.time()`)."""
    return {'command': command, 'date': datetime.now(timezone.utc).isoformat(timespec='seconds'),
            'torch': torch.__version__, 'python': platform.python_version(),
            'threads': torch.get_num_threads(), 'wall_time_s': round(time.time() - start, 1)}
