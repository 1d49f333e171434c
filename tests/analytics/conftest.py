"""The tests run with ``--import-mode=importlib``; this folder goes on sys.path so the test
modules can import the helpers next to them (otif_cases)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
