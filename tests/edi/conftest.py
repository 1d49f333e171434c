"""The tests run with ``--import-mode=importlib``; this folder goes on sys.path so the test
modules can import the sample interchanges next to them (edi_samples)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
