"""The README's first journey, pasted into a shell, works against a running `kilat up`."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def first_journey() -> str:
    section = README[README.index("## A first journey through the API"):]
    return re.search(r"```bash\n(.*?)```", section, re.S).group(1)


def test_the_readme_first_journey_signs_up_signs_in_and_reads_the_profile(embedded_platform):
    script = re.sub(r"(http://)?localhost:8080", embedded_platform.url, first_journey())
    shell = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True,
                           text=True, timeout=60)
    assert shell.returncode == 0, shell.stderr
    registered, profile = (json.loads(line) for line in shell.stdout.splitlines())
    assert registered["success"] is True
    assert profile["success"] is True and profile["data"]["email"] == "ana@example.com"
