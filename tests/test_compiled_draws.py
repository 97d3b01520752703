"""Forward draws compiled once per installation: kept, reloaded, reseeded, and never trusted blindly.

The cached function must give the numbers a fresh compile gives, bit for bit, for any seed; a
run that finds it must not import PyMC; an entry that is unreadable, written for another key or
scenario, or cut short must be compiled again rather than used.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from cli_probe import cli_loads
from pymc.distributions.shape_utils import change_dist_size
from pymc.pytensorf import compile as compile_pymc
from pytensor.compile.mode import Mode
from pytensor.graph.replace import vectorize_graph

from riskmodel.inference import compiled
from riskmodel.inference.compiled import (
    KEEP_ENTRIES,
    entry_path,
    load_prior_function,
    prior_key,
    store_prior_function,
)
from riskmodel.inference.sampling import compile_prior, draw_prior
from riskmodel.model.layout import build_layout
from riskmodel.model.priors import build_model
from riskmodel.pipeline import evaluate_deals, sample_worlds
from riskmodel.randomness import as_seed_sequence
from riskmodel.spec.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
# no elicited priors: an empty cache folder sends nothing to PreliZ
SCENARIO = ROOT / "data" / "scenarios" / "ceta_2016.yaml"
OTHER = ROOT / "data" / "scenarios" / "eu_constitution_2005.yaml"


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    return home


@pytest.fixture(scope="module")
def ceta():
    return load_scenario(SCENARIO)


def _same_tree(a, b) -> None:
    left, right = a["prior"].to_dataset(), b["prior"].to_dataset()
    assert list(left.data_vars) == list(right.data_vars)
    assert list(left.coords) == list(right.coords)
    assert left.identical(right)
    for name in left.data_vars:  # identical() compares values; check the bits as well
        assert left[name].dtype == right[name].dtype
        assert np.array_equal(left[name].to_numpy(), right[name].to_numpy(), equal_nan=True)


def test_reseeding_is_pymc_seeding(ceta) -> None:
    # the old path: PyMC's compile seeds the generators itself; draw() must give the same bits
    model = build_model(build_layout(ceta))
    prior = compile_prior(model, 7)
    names = [var.name for var in model.deterministics]
    batched = {rv: change_dist_size(rv, (7,), expand=True) for rv in model.free_RVs}
    # PyTensor's own half-normal (through scipy.stats), the forward draws' linker and rewrites
    outputs = vectorize_graph([model[name] for name in names], replace=batched)
    mode = Mode(linker="py", optimizer="fast_run").excluding("fusion")
    for seed in (0, 1, 2**31 + 5):
        rng_seed = int(np.random.SeedSequence(seed).generate_state(1)[0])
        reference = compile_pymc([], outputs, random_seed=rng_seed, mode=mode)()
        ours = prior.draw(np.random.SeedSequence(seed))["prior"]
        assert prior.rng_inputs, "the model has random variables"
        for name, value in zip(names, reference, strict=True):
            got = ours[name].to_numpy()[0]
            assert np.array_equal(got, np.broadcast_to(value, got.shape), equal_nan=True), name


def test_cached_function_draws_what_a_fresh_compile_draws(ceta, cache_home: Path) -> None:
    model = build_model(build_layout(ceta))
    fresh = compile_prior(model, 9)
    assert load_prior_function(ceta, 9) is None  # nothing cached yet
    path = store_prior_function(ceta, fresh)
    assert path is not None and path == entry_path(prior_key(ceta, 9) or "")
    assert path.is_relative_to(cache_home / "riskmodel" / "forward-draws")
    cached = load_prior_function(ceta, 9)
    assert cached is not None and cached.function is not fresh.function
    for seed in (3, 4, 20190101):
        _same_tree(cached.draw(seed), draw_prior(model, 9, seed=seed))
        _same_tree(cached.draw(seed), fresh.draw(seed))
    # a function reused for another seed is reseeded completely, not continued
    _same_tree(cached.draw(3), draw_prior(model, 9, seed=3))


def test_runs_with_and_without_the_cache_are_identical(ceta, cache_home: Path) -> None:
    first = evaluate_deals(sample_worlds(ceta, n_worlds=300, n_replicates=10, seed=11))
    assert len(list((cache_home / "riskmodel" / "forward-draws").glob("*.pickle"))) == 1
    assert load_prior_function(ceta, 30) is not None
    second = evaluate_deals(sample_worlds(ceta, n_worlds=300, n_replicates=10, seed=11))
    assert first.identical(second)
    for name in first.data_vars:
        assert np.array_equal(first[name].to_numpy(), second[name].to_numpy(), equal_nan=True)


def test_the_key_names_everything_the_graph_depends_on(ceta, cache_home: Path) -> None:
    key = prior_key(ceta, 200)
    assert key is not None and key == prior_key(ceta, 200)
    assert prior_key(ceta, 201) != key
    assert prior_key(load_scenario(OTHER), 200) != key
    # elicited priors' fitted parameters are constants of the graph
    folder = cache_home / "riskmodel"
    folder.mkdir(parents=True)
    (folder / "elicited-priors.json").write_text('{"x": {"mu": 1.0}}')
    changed = prior_key(ceta, 200)
    assert changed != key
    (folder / "elicited-priors.json").write_text('{"x": {"mu": 1.5}}')
    assert prior_key(ceta, 200) not in (key, changed)


def test_pytensor_settings_are_part_of_the_key(ceta, cache_home: Path) -> None:
    # a graph compiled under other PyTensor settings is another function
    code = textwrap.dedent(
        f"""
        from pathlib import Path
        from riskmodel.inference.compiled import prior_key
        from riskmodel.spec.scenario import load_scenario
        print(prior_key(load_scenario(Path({str(SCENARIO)!r})), 200))
        """
    )
    keys = []
    for flags in ("", "floatX=float32", "optimizer_excluding=local_add_canonizer"):
        env = dict(os.environ, PYTENSOR_FLAGS=flags, PYTHONPATH=str(ROOT))
        done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        keys.append(done.stdout.strip())
    assert keys[0] == prior_key(ceta, 200)
    assert len(set(keys)) == 3


def test_unreadable_or_foreign_entries_are_compiled_again(ceta, cache_home: Path) -> None:
    model = build_model(build_layout(ceta))
    store_prior_function(ceta, compile_prior(model, 5))
    path = entry_path(prior_key(ceta, 5) or "")
    good = path.read_bytes()
    # cut short, garbage, another object, another key's entry, another draw count
    other = load_scenario(OTHER)
    store_prior_function(other, compile_prior(build_model(build_layout(other)), 5))
    foreign = entry_path(prior_key(other, 5) or "").read_bytes()
    store_prior_function(ceta, compile_prior(model, 6))
    six = entry_path(prior_key(ceta, 6) or "").read_bytes()
    for bad in (good[: len(good) // 2], b"not a pickle", pickle.dumps({"function": 1}), foreign, six):
        path.write_bytes(bad)
        assert load_prior_function(ceta, 5) is None
    # a run that finds a bad entry compiles, draws the right numbers and replaces it
    path.write_bytes(foreign)
    expected = draw_prior(model, 5, seed=as_seed_sequence(8).spawn(2)[0])  # sample_worlds' draw seed
    _same_tree(sample_worlds(ceta, n_worlds=50, n_replicates=10, seed=8).draws, expected)
    assert path.read_bytes() != foreign
    assert load_prior_function(ceta, 5) is not None


def test_an_entry_whose_generators_are_not_all_reseeded_is_refused(ceta, cache_home: Path) -> None:
    prior = compile_prior(build_model(build_layout(ceta)), 4)
    store_prior_function(ceta, prior)  # strips the function's run-time closures: it pickles again
    key = prior_key(ceta, 4) or ""
    path = entry_path(key)
    assert load_prior_function(ceta, 4) is not None
    for rng_inputs in (prior.rng_inputs[:-1], (*prior.rng_inputs, 10_000), (*prior.rng_inputs[1:], 0)):
        path.write_bytes(pickle.dumps(replace(prior, key=key, rng_inputs=rng_inputs)))
        assert load_prior_function(ceta, 4) is None, rng_inputs


def test_the_folder_keeps_the_most_recently_used_entries(ceta, cache_home: Path) -> None:
    folder = cache_home / "riskmodel" / "forward-draws"
    folder.mkdir(parents=True)
    for i in range(KEEP_ENTRIES + 5):
        stale = folder / f"{i:064x}.pickle"
        stale.write_bytes(b"old")
        os.utime(stale, ns=(i * 10**9, i * 10**9))
    store_prior_function(ceta, compile_prior(build_model(build_layout(ceta)), 3))
    kept = sorted(folder.glob("*.pickle"))
    assert len(kept) == KEEP_ENTRIES
    assert entry_path(prior_key(ceta, 3) or "") in kept
    assert not (folder / f"{0:064x}.pickle").exists()  # the oldest went first


def test_an_unwritable_cache_only_costs_time(ceta, cache_home: Path) -> None:
    cache_home.mkdir()
    (cache_home / "riskmodel").write_text("a file where the folder should be")
    prior = compile_prior(build_model(build_layout(ceta)), 3)
    assert store_prior_function(ceta, prior) is None
    assert load_prior_function(ceta, 3) is None
    sample_worlds(ceta, n_worlds=30, n_replicates=10, seed=1)


def test_a_cached_run_does_not_import_pymc(tmp_path: Path, cache_home: Path) -> None:
    argv = ["run", str(SCENARIO), "--worlds", "200", "--out", str(tmp_path / "first")]
    code, loaded = cli_loads(argv, ("pymc",))
    assert code in (0, None) and loaded == ["pymc"]  # the first run builds the model
    argv[-1] = str(tmp_path / "second")
    code, loaded = cli_loads(argv, ("pymc", "riskmodel.model.priors", "riskmodel.inference.sampling"))
    assert code in (0, None) and loaded == []
    assert compiled.FORMAT >= 1


def test_python_m_riskmodel_leaves_at_once_after_exit_handlers(tmp_path: Path) -> None:
    # leave(): exit handlers run, buffered output reaches the pipe, the code is the command's
    marker = tmp_path / "atexit-ran"
    code = textwrap.dedent(
        f"""
        import atexit, pathlib, sys
        atexit.register(lambda: pathlib.Path({str(marker)!r}).write_text("yes"))
        sys.stdout.write("unflushed")
        from riskmodel.cli.app import leave
        leave(3)
        print("not reached")
        """
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 3, done.stderr
    assert done.stdout == "unflushed" and marker.read_text() == "yes"
    # a thread still running: Python's own exit, which waits for it
    code = textwrap.dedent(
        """
        import threading, time
        from riskmodel.cli.app import leave
        threading.Thread(target=lambda: (time.sleep(0.3), print("thread done", flush=True))).start()
        leave(4)
        """
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 4 and "thread done" in done.stdout
    # the real entry point: exit codes of a failure and of a success
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [\n")

    def validate(path: Path) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "riskmodel", "validate", str(path)]
        return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)

    done = validate(bad)
    assert done.returncode == 2 and "bad.yaml" in done.stderr and done.stderr.count("\n") == 1
    done = validate(SCENARIO)
    assert done.returncode == 0 and "valid" in done.stdout
