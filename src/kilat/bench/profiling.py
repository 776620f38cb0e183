"""Optional sampling profiles of the platform while a benchmark measures it (py-spy).

Set ``KILAT_BENCH_PROFILE_DIR`` and every measured window records one raw py-spy profile per
platform process (``--nonblocking``: the process is never paused). ``python -m
kilat.bench.profiling DIR`` prints where each process spent its samples.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import psutil

RATE = 100


def start_profiles(processes: list[psutil.Process], label: str, seconds: float) -> list[subprocess.Popen]:
    folder = os.environ.get("KILAT_BENCH_PROFILE_DIR")
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not folder or not Path(spy).exists():
        return []
    Path(folder).mkdir(parents=True, exist_ok=True)
    recorders = []
    for process in processes:
        try:
            name = _name(process)
        except psutil.Error:
            continue
        out = Path(folder) / f"{label}-{name}-{process.pid}.txt"
        recorders.append(subprocess.Popen(
            [spy, "record", "--pid", str(process.pid), "--duration", str(max(1, int(seconds))),
             "--rate", str(RATE), "--nonblocking", "--format", "raw", "--output", str(out)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    return recorders


def stop_profiles(recorders: list[subprocess.Popen]) -> None:
    for recorder in recorders:
        try:
            recorder.wait(timeout=30)
        except subprocess.TimeoutExpired:
            recorder.kill()
            recorder.wait()


def _name(process: psutil.Process) -> str:
    command = process.cmdline()
    if "serve" in command:
        return command[command.index("serve") + 1]
    return "up" if "up" in command else Path(command[1] if len(command) > 1 else command[0]).stem


def summarise(path: Path, top: int = 25) -> dict[str, list[tuple[int, str]]]:
    """Samples per function: ``self`` (the frame on top) and ``kilat`` (inclusive, our code)."""
    own: Counter[str] = Counter()
    ours: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        samples, frames = int(count), [_key(frame) for frame in stack.split(";")]
        total += samples
        own[frames[-1]] += samples
        for key in set(frames):
            if key.startswith("kilat/"):
                ours[key] += samples
    return {"total": [(total, "samples")], "self": own.most_common(top),
            "kilat": ours.most_common(top)}


def _key(frame: str) -> str:
    function, _, where = frame.partition(" (")
    path = where.split(":")[0]
    if path.startswith("kilat/") or "/kilat/" in path:
        return f"kilat/{path.split('kilat/', 1)[1]}:{function}"
    return f"{path}:{function}" if path else function


if __name__ == "__main__":
    for file in sorted(Path(sys.argv[1]).glob("*.txt")):
        summary = summarise(file, int(sys.argv[2]) if len(sys.argv) > 2 else 15)
        total = summary["total"][0][0]
        print(f"\n== {file.name}: {total} samples")
        for section in ("self", "kilat"):
            print(f"-- {section}")
            for key, count in summary[section]:
                print(f"{count:7d} {100 * count / max(total, 1):5.1f}%  {key}")
