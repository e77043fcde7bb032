"""Make the repository's ``bench`` package importable (it lives beside ``src``, not inside it)."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = str(Path(__file__).resolve().parents[3])
if REPO not in sys.path:
    sys.path.insert(0, REPO)
