"""The folder mapping: an installed wheel has storyreel.agents etc., and no bare top-level names."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_maps_the_folders_into_storyreel(tmp_path: Path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    wheel = next(tmp_path.glob("storyreel-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for expected in (
        "storyreel/agents/llm.py",
        "storyreel/agents/offline/writer.py",  # the offline provider package
        "storyreel/flows/make_film.py",
        "storyreel/generators/base.py",
        "storyreel/generators/drawing/canvas.py",  # the preview illustrations' drawing package
        "storyreel/profiles/preview.toml",
        "storyreel/cli.py",
    ):
        assert expected in names, expected
    assert not [n for n in names if n.split("/")[0] in ("agents", "flows", "generators", "tests", "plugins")]
    # the built-in backends are entry points of the wheel, the same group plugins use
    entry_points = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith(".dist-info/entry_points.txt")))
    group = entry_points.decode().split("[storyreel.backends]")[1].split("\n[")[0]
    assert "image.preview = storyreel.generators.preview_image:PreviewIllustrator" in group
    assert "audiocraft" not in group  # a plugin of its own (plugins/storyreel-audiocraft)
    providers = entry_points.decode().split("[storyreel.llm_providers]")[1].split("\n[")[0]  # LLM providers too
    assert "offline = storyreel.agents.offline:OfflineProvider" in providers

    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
    )
    code = (
        "import importlib, sys; sys.path.insert(0, sys.argv[1]); "
        "import storyreel.agents, storyreel.flows, storyreel.generators, storyreel.config; "
        "assert storyreel.agents.__file__.startswith(sys.argv[1]), storyreel.agents.__file__; "
        "bare = [n for n in ('agents', 'flows', 'generators') if importlib.util.find_spec(n) is not None]; "
        "print(bare)"
    )
    out = subprocess.run([sys.executable, "-I", "-c", code, str(target)], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
