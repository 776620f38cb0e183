"""The README names only settings that exist, and the setup script installs what each command needs."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from tests.unit.deploy.test_deploy_files import known_settings

ROOT = Path(__file__).resolve().parents[3]
README = (ROOT / "README.md").read_text()


def command_line_variables() -> set[str]:
    """The environment variables the ``kilat`` command's own options read (``envvar=``)."""
    import click
    import typer.main

    from kilat.cli import app

    found: set[str] = set()

    def walk(command: click.Command) -> None:
        for param in command.params:
            envvar = getattr(param, "envvar", None)
            found.update([envvar] if isinstance(envvar, str) else envvar or [])
        for sub in getattr(command, "commands", {}).values():
            walk(sub)

    walk(typer.main.get_command(app))
    return found


def test_every_setting_the_readme_names_exists():
    named = set(re.findall(r"KILAT_[A-Z0-9_]*[A-Z0-9]\b", README))
    known = known_settings() | command_line_variables()
    assert named and named <= known, named - known


def test_the_readme_says_how_to_share_a_machine_without_root():
    distributed = README[README.index("## Two ways to run"):README.index("## Settings")]
    for setting in ("KILAT_DATABASE_URLS", "KILAT_NATS_STREAM", "KILAT_SERVICE_PORTS",
                    "KILAT_REDIS_URL"):
        assert setting in distributed
    assert "/etc/" not in README


def setup_in(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the project's setup script whose .venv python records pip's arguments."""
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "setup", tmp_path / "scripts" / "setup")
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'kilat'\n")
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    log = tmp_path / "pip.log"
    python.write_text(f"#!/bin/sh\necho \"$*\" >> {log}\n")
    python.chmod(0o755)
    return tmp_path / "scripts" / "setup", log


def installs(setup: Path, log: Path, *args: str) -> list[str]:
    log.write_text("")
    subprocess.run([str(setup), *args], check=True, capture_output=True, timeout=30)
    return [line.split()[-1] for line in log.read_text().splitlines() if "--upgrade pip" not in line]


def test_run_installs_kilat_alone_and_test_adds_the_test_tools_once(tmp_path):
    setup, log = setup_in(tmp_path)
    assert installs(setup, log, "run") == ["."]
    assert installs(setup, log, "run") == []
    assert installs(setup, log, "test") == [".[test]"]
    assert installs(setup, log) == []
    assert installs(setup, log, "run") == []  # the test install includes Kilat itself
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'kilat'\nversion = '2'\n")
    assert installs(setup, log, "run") == ["."]
