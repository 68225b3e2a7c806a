"""bench/gpu_film.py on the CPU with the tiny models: the whole film through storyreel's own backends, run as the
lent GPU machine runs it (storyreel not installed, its folders mounted from the tree; no Prefect imported)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # about two minutes here: it builds the tiny LTX-2 and ACE-Step and makes a film

ROOT = Path(__file__).resolve().parents[1]


def test_the_bench_makes_a_film_with_sound_and_reports_film_seconds_per_gpu_minute(tmp_path):
    import torch

    packages = Path(torch.__file__).resolve().parents[1]  # the installed libraries, without storyreel's own install
    env = {**os.environ, "PYTHONPATH": str(packages), "STORYREEL_CACHE": str(tmp_path / "cache")}
    figures, notes = tmp_path / "film.json", tmp_path / "benchmarks.md"
    command = [sys.executable, "-S", str(ROOT / "bench" / "gpu_film.py"), "--tiny", "--json", str(figures)]
    result = subprocess.run(
        [*command, "--out", str(notes)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    found = json.loads(figures.read_text())
    stages = [row["stage"] for row in found["stages"]]
    assert stages[0].startswith("narration") and stages[-1] == "segments and film"
    assert sum(s.startswith("clip p") for s in stages) == 2 and any(s.startswith("transition") for s in stages)
    assert any(s.startswith("music") for s in stages) and "mix" in stages
    assert [row["stage"] for row in found["build"]] == ["build LTX-2", "build ACE-Step"]
    assert found["film"].endswith("aac sound") and found["film"].startswith("128x72")
    assert found["film_seconds_per_gpu_minute"] == pytest.approx(
        found["film_seconds"] / (found["stage_seconds"] / 60), rel=0.02
    )
    assert "prefect" not in found["imported"] and "langchain" not in found["imported"]
    assert found["auto_tune"] == "cpu: windows of 33 frames (as set)"  # what was chosen, said (on a card: why)
    assert "seconds of film per GPU-minute" in notes.read_text() and "Auto-tune: cpu" in notes.read_text()


def test_the_bench_needs_cuda_at_real_sizes(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "gpu_film.py"), "--quick"], capture_output=True, text=True, timeout=300
    )
    if result.returncode == 0:
        pytest.skip("a CUDA GPU is here")
    assert result.returncode == 2 and "needs a CUDA GPU" in result.stderr
