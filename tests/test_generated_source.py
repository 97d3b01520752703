"""PyTensor's generated numba source goes to one content-addressed folder, not the temp folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PROBE = """
import json, os, sys
import riskmodel
import numpy as np
import pytensor, pytensor.tensor as pt
x = pt.vector("x")
f = pytensor.function([x], pt.exp(x).sum() + x.shape[0], mode="NUMBA")
assert float(f(np.zeros(3))) == 6.0
folder = str(pytensor.config.generated_src_dir)
print(json.dumps({"flags": os.environ.get("PYTENSOR_FLAGS", ""), "dir": folder}))
"""


def _run(tmp_path: Path, flags: str | None, code: str = PROBE) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTENSOR_FLAGS", "PYTENSORRC")}
    env["HOME"] = str(tmp_path / "home")
    (tmp_path / "home").mkdir(exist_ok=True)
    env["TMPDIR"] = str(tmp_path / "tmp")
    (tmp_path / "tmp").mkdir(exist_ok=True)
    base = tmp_path / "base"
    env["PYTENSOR_FLAGS"] = f"base_compiledir={base}" + (f",{flags}" if flags else "")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_generated_source_lands_in_the_compile_folder_not_in_tmp(tmp_path: Path) -> None:
    out = _run(tmp_path, None)
    folder = tmp_path / "base" / "generated_src"
    assert out["dir"] == str(folder)
    written = sorted(folder.glob("*.py"))
    assert written, "no generated source in the compile folder"
    assert not any((tmp_path / "tmp").iterdir()), "generated source left in the temporary folder"
    # compiled again in a new process: the same files, none added
    _run(tmp_path, None)
    assert sorted(folder.glob("*.py")) == written


def test_a_users_own_setting_wins(tmp_path: Path) -> None:
    own = tmp_path / "mine"
    code = "import os, json, riskmodel; print(json.dumps({'flags': os.environ['PYTENSOR_FLAGS']}))"
    out = _run(tmp_path, f"generated_src_dir={own}", code)
    assert out["flags"].count("generated_src_dir=") == 1
    assert f"generated_src_dir={own}" in out["flags"]


def test_a_pytensor_configuration_file_is_left_to_decide(tmp_path: Path) -> None:
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / ".pytensorrc").write_text("[global]\n")
    code = "import os, json, riskmodel; print(json.dumps({'flags': os.environ['PYTENSOR_FLAGS']}))"
    out = _run(tmp_path, None, code)
    assert "generated_src_dir" not in out["flags"]
