"""Backends by name, the run directory's atomic writes, lock and asset manifest."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from storyreel import registry
from storyreel.errors import BackendError, ConfigError, InputError, RunLockedError
from storyreel.store import RunDir, atomic_path, new_run_dir, spec_key, write_text


def test_every_builtin_entry_point_imports_and_follows_its_protocol():
    from storyreel.generators import base

    protocols = {
        "image": base.ImageGenerator,
        "keyframes": base.KeyframeGenerator,
        "interpolation": base.Interpolator,
        "narration": base.Narrator,
        "music": base.Composer,
        "sfx": base.SoundMaker,
        "segment": base.SegmentEncoder,
        "assemble": base.Assembler,
        "critic": base.Critic,
    }
    builtins = [b for b in registry.all_backends() if b.origin == registry.BUILT_IN]
    assert set(registry.KINDS) == {b.kind for b in builtins}  # every kind has a built-in backend
    for info in builtins:
        assert info.target.startswith("storyreel."), info  # the built-ins are storyreel's own modules
        cls = registry.load(info.kind, info.name)  # all installable here
        assert callable(getattr(cls, registry.KINDS[info.kind], None)), info  # the protocol's one method
        assert cls.name == info.name and cls.version, info  # the entry point's name is the class's
        assert info.summary and not info.missing(), info
        if info.kind in protocols:
            assert isinstance(registry.create(info.kind, info.name), protocols[info.kind]), info


def test_builtin_entry_points_are_the_package_metadata():
    """The installed metadata lists exactly what pyproject.toml declares (reinstall after editing it)."""
    import tomllib

    declared = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
    group = declared["project"]["entry-points"][registry.ENTRY_POINT_GROUP]
    builtins = {f"{b.kind}.{b.name}": b.target for b in registry.all_backends() if b.origin == registry.BUILT_IN}
    assert builtins == group


def test_unknown_backend_and_bad_options_are_clear():
    with pytest.raises(ConfigError, match="unknown image backend 'nope'; available: diffusers, preview"):
        registry.load("image", "nope")
    with pytest.raises(ConfigError, match="unknown backend kind"):
        registry.info("smell", "x")
    with pytest.raises(ConfigError, match="option"):
        registry.create("narration", "espeak", {"no_such_option": 1})


def test_missing_package_says_how_to_install(monkeypatch, tmp_path: Path):
    (tmp_path / "fancy_mod.py").write_text(
        "class Fancy:\n    name = 'fancy'\n    requires = ('no_such_module_xyz',)\n    install = 'pip install fancy'\n"
        "    def generate(self, request, out): ...\n"
        "class NoMethod:\n    name = 'odd'\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    fake = registry.BackendInfo("image", "fancy", "fancy_mod:Fancy", origin="fancy-plugin")
    odd = registry.BackendInfo("image", "odd", "fancy_mod:NoMethod", origin="fancy-plugin")
    broken = registry.BackendInfo("image", "broken", "no_such_plugin_xyz.image:Broken", origin="broken-plugin")
    real = registry.all_backends
    monkeypatch.setattr(registry, "all_backends", lambda: [*real(), fake, odd, broken])
    assert fake.missing() == ["no_such_module_xyz"] and fake.install == "pip install fancy"
    with pytest.raises(BackendError, match="needs no_such_module_xyz: pip install fancy"):
        registry.load("image", "fancy")
    with pytest.raises(BackendError, match="image backend 'odd': fancy_mod:NoMethod has no generate"):
        registry.load("image", "odd")
    assert broken.missing() == ["no_such_plugin_xyz"] and "could not be imported" in broken.install
    with pytest.raises(BackendError, match="image backend 'broken': no_such_plugin_xyz.image could not be imported"):
        registry.load("image", "broken")


def test_cli_start_does_not_import_heavy_libraries():
    code = (
        "import sys, storyreel.cli, storyreel.config, storyreel.registry; "
        "print(sorted(m for m in ('torch','prefect','moviepy','diffusers','transformers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_listing_the_backends_imports_their_modules_but_no_heavy_library():
    code = (
        "import sys; from typer.testing import CliRunner; from storyreel.cli import app; "
        "result = CliRunner().invoke(app, ['backends']); assert result.exit_code == 0, result.output; "
        "assert 'storyreel.generators.video_ltx' in sys.modules; "  # the summaries come from the classes
        "print(sorted(m for m in ('torch','diffusers','transformers','moviepy','kokoro') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


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


def test_records_and_events_say_which_page_an_asset_belongs_to(tmp_path: Path):
    run = RunDir(tmp_path)
    run.asset("image", {"p": 3}, "elsewhere/a-{key}.png", lambda tmp: tmp.write_text("x"), page=3)
    run.asset("clip", {"t": 1}, "t-{key}.mp4", lambda tmp: tmp.write_text("y"), page=1, transition=True)
    run.asset("mix", {"m": 1}, "audio/mix-{key}.wav", lambda tmp: tmp.write_text("z"))
    run.asset("image", {"p": 3}, "pages/p09/image-{key}.png", lambda tmp: tmp.write_text("x"), page=4)  # moved
    places = {r.kind: (r.page, r.transition) for r in run.manifest().values()}
    assert places == {"image": (3, False), "clip": (1, True), "mix": (None, False)}  # not read from the paths
    events = [(e.which, e.kind, e.page, e.transition) for e in run.events()]
    assert events == [
        ("made", "image", 3, False),
        ("made", "clip", 1, True),
        ("made", "mix", None, False),
        ("reused", "image", 4, False),  # reported where it was asked for now
    ]


def test_an_old_manifest_without_pages_still_loads_and_gets_them_from_its_paths(tmp_path: Path):
    import json

    def old(kind: str, path: str) -> dict:
        return {"key": kind, "kind": kind, "path": path, "sha256": "0" * 64, "spec": {}, "created": 0.0}

    records = [
        old("image", "pages/p02/image-1.png"),
        old("clip", "transitions/t02-03-1.mp4"),
        old("film", "films/f.mp4"),
    ]
    (tmp_path / "manifest.json").write_text(json.dumps({"assets": {r["key"]: r for r in records}}))
    found = RunDir(tmp_path).manifest()
    assert {k: (r.page, r.transition) for k, r in found.items()} == {
        "image": (2, False),
        "clip": (2, True),
        "film": (None, False),
    }
