"""What a session costs a request, and how the in-memory store scales: ``python -m benchmarks``."""

import sys
from pathlib import Path

# The benchmarks start the tests' throwaway servers (tests/servers.py).
sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))
