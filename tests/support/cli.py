"""Run the kilat command as a user would."""

import os
import subprocess
import sys


def kilat(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kilat", *args], capture_output=True, text=True,
                          env=os.environ | (env or {}), timeout=120)
