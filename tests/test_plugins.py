"""The plugin path, tested with the real plugin kept in this repo (plugins/storyreel-audiocraft): installed
without its dependencies into a temporary folder, put on a subprocess's path, and found through the
``storyreel.backends`` entry points like the built-in backends, with audiocraft reported missing."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from storyreel import registry
from storyreel.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = ROOT / "plugins" / "storyreel-audiocraft"

# What the subprocess reports: the backends as `storyreel backends --json` lists them, whether listing them
# imported a heavy library, and what creating and running each plugin backend says without audiocraft.
PROBE = """
import importlib, json, sys
from pathlib import Path
from typer.testing import CliRunner
from storyreel import registry
from storyreel.errors import ConfigError
from storyreel.cli import app
from storyreel.errors import BackendError
from storyreel.generators.base import MusicRequest, SfxRequest
from storyreel.plan import SfxCue

result = CliRunner().invoke(app, ["backends", "--json"])
heavy = sorted(m for m in ("torch", "audiocraft") if m in sys.modules)
report = {"rows": json.loads(result.output)["backends"], "heavy": heavy}
requests = {"music": MusicRequest(mood="calm", duration=1.0), "sfx": SfxRequest(cue=SfxCue(sound="rain"), duration=1)}
for kind, name, method in (("music", "audiocraft", "compose"), ("sfx", "audiogen", "make")):
    try:
        registry.create(kind, name)
    except BackendError as exc:
        report[f"create {kind}.{name}"] = str(exc)
    module, _, attr = registry.info(kind, name).target.partition(":")
    backend = getattr(importlib.import_module(module), attr)()  # as a caller that skips the registry's check
    try:
        getattr(backend, method)(requests[kind], Path("unused"))
    except BackendError as exc:
        report[f"run {kind}.{name}"] = str(exc)
print(json.dumps(report))
"""


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The plugin installed with pip, without its dependencies, into a folder of its own."""
    work = tmp_path_factory.mktemp("plugin")
    source = work / "src"  # a copy, so that the build leaves nothing in the repo
    shutil.copytree(PLUGIN, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    site = work / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation"]
        + ["--target", str(site), str(source)],
        check=True,
        capture_output=True,
    )
    return site


def test_a_plugin_registers_its_backends_through_the_entry_points(plugin_site: Path) -> None:
    if importlib.util.find_spec("audiocraft") is not None:
        pytest.skip("audiocraft is installed here")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(plugin_site), os.environ.get("PYTHONPATH")]))}
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, cwd=plugin_site)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout.strip().splitlines()[-1])
    rows = {(r["kind"], r["name"]): r for r in report["rows"]}

    # listed beside the built-ins, with where they come from, what they miss and how to get it
    for key in (("music", "audiocraft"), ("sfx", "audiogen")):
        row = rows[key]
        assert row["origin"] == "storyreel-audiocraft", row
        assert not row["ready"] and row["missing"] == ["audiocraft"], row
        assert "torch 2.1" in row["install"] and "separate environment" in row["install"], row
        assert "plugins/storyreel-audiocraft/README.md" in row["install"] and "audiocraft" in row["summary"], row
    assert rows[("music", "synth")]["origin"] == "built-in" and rows[("music", "synth")]["ready"]
    assert report["heavy"] == []  # listing imported the plugin's modules, but neither torch nor audiocraft

    # refused before anything loads, with the advice; and a caller that skips the check is told the same
    for kind, name in (("music", "audiocraft"), ("sfx", "audiogen")):
        assert report[f"create {kind}.{name}"].startswith(f"{kind} backend '{name}' needs audiocraft: ")
        assert "music.backend=musicgen" in report[f"create {kind}.{name}"]
        assert report[f"run {kind}.{name}"].startswith("audiocraft is not usable here")
        assert "torch 2.1" in report[f"run {kind}.{name}"]


def test_without_the_plugin_its_backends_are_unknown() -> None:
    assert "audiocraft" not in registry.names("music") and "audiogen" not in registry.names("sfx")
    with pytest.raises(ConfigError, match="unknown music backend 'audiocraft'; available: ace-step, musicgen, synth"):
        registry.info("music", "audiocraft")
