"""Backends by name, the run directory's atomic writes, lock and asset manifest."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from storyreel import registry
from storyreel.errors import BackendError, ConfigError, InputError, RunLockedError
from storyreel.store import RunDir, atomic_path, new_run_dir, spec_key, write_text


def test_every_builtin_backend_loads_and_follows_its_protocol():
    from storyreel.generators import base

    protocols = {
        "image": base.ImageGenerator,
        "keyframes": base.KeyframeGenerator,
        "interpolation": base.Interpolator,
        "narration": base.Narrator,
        "music": base.Composer,
        "sfx": base.SoundMaker,
        "assemble": base.Assembler,
        "critic": base.Critic,
    }
    for info in registry.BUILTINS:
        if info.missing():  # not installable beside storyreel (audiocraft): its module still imports without it
            module, _, attr = info.target.partition(":")
            assert info.install, info
            backend = getattr(importlib.import_module(module), attr)()
        else:
            backend = registry.create(info.kind, info.name)
        assert isinstance(backend, protocols[info.kind]), info
        assert backend.name == info.name and backend.version


def test_unknown_backend_and_bad_options_are_clear():
    with pytest.raises(ConfigError, match="unknown image backend 'nope'; available: diffusers, preview"):
        registry.load("image", "nope")
    with pytest.raises(ConfigError, match="unknown backend kind"):
        registry.info("smell", "x")
    with pytest.raises(ConfigError, match="option"):
        registry.create("narration", "espeak", {"no_such_option": 1})


def test_missing_package_says_how_to_install(monkeypatch):
    fake = registry.BackendInfo("image", "fancy", "fancy_mod:Fancy", ("no_such_module_xyz",), "pip install fancy")
    monkeypatch.setattr(registry, "BUILTINS", (*registry.BUILTINS, fake))
    assert fake.missing() == ["no_such_module_xyz"]
    with pytest.raises(BackendError, match="needs no_such_module_xyz: pip install fancy"):
        registry.load("image", "fancy")


def test_cli_start_does_not_import_heavy_libraries():
    code = (
        "import sys, storyreel.cli, storyreel.config, storyreel.registry; "
        "print(sorted(m for m in ('torch','prefect','moviepy','diffusers','transformers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_atomic_write_leaves_nothing_half_written(tmp_path: Path):
    target = tmp_path / "a" / "file.txt"
    write_text(target, "one")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash")
    assert target.read_text() == "one"
    assert sorted(p.name for p in target.parent.iterdir()) == ["file.txt"]


def test_asset_is_reused_only_while_its_spec_and_file_hold(tmp_path: Path):
    run = RunDir(tmp_path)
    calls = []

    def produce(text):
        def write(tmp: Path):
            calls.append(text)
            tmp.write_text(text)

        return write

    first = run.asset("note", {"text": "hi"}, "notes/n-{key}.txt", produce("hi"))
    assert run.asset("note", {"text": "hi"}, "notes/n-{key}.txt", produce("hi")) == first
    assert calls == ["hi"]
    other = run.asset("note", {"text": "ho"}, "notes/n-{key}.txt", produce("ho"))
    assert other != first and calls == ["hi", "ho"]
    assert first.exists()  # an older version stays on disk
    first.write_text("corrupt")
    assert run.asset("note", {"text": "hi"}, "notes/n-{key}.txt", produce("hi")).read_text() == "hi"
    first.unlink()
    assert run.asset("note", {"text": "hi"}, "notes/n-{key}.txt", produce("hi")).read_text() == "hi"
    assert calls == ["hi", "ho", "hi", "hi"]
    assert RunDir(tmp_path).stats()["made"] == ["note"] * 4
    assert spec_key({"a": 1, "b": [1.0000001]}) == spec_key({"b": [1.0], "a": 1})


def test_failed_asset_is_not_recorded(tmp_path: Path):
    run = RunDir(tmp_path)

    def fail(tmp: Path):
        tmp.write_text("partial")
        raise RuntimeError("backend died")

    with pytest.raises(RuntimeError):
        run.asset("note", {"x": 1}, "n-{key}.txt", fail)
    assert run.manifest() == {}
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".")] == []


def test_run_dir_lock_and_new_run_dir(tmp_path: Path):
    run = RunDir(tmp_path)
    with run.locked(), pytest.raises(RunLockedError, match="in use"), RunDir(tmp_path).locked():
        pass
    with run.locked():  # released after use
        pass
    made = new_run_dir(tmp_path / "runs", "A Little Dragon!")
    assert made.is_dir() and "-a-little-dragon-" in made.name
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(InputError, match="cannot write to output folder"):
        new_run_dir(blocker / "runs", "x")
