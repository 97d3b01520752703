"""Run the command line in a fresh interpreter and report which of some modules it imported.

Shared by the start-up checks (``test_architecture.py``) and the run-path checks
(``test_runpath_imports.py``): a command's imports are read from ``sys.modules`` at its end, as a
user's own ``riskmodel ...`` would have them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json, sys
sys.argv = ["riskmodel", *{argv!r}]
try:
    import riskmodel.cli.app
    riskmodel.cli.app.main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
print(json.dumps({{"code": code, "loaded": sorted(m for m in {forbidden!r} if m in sys.modules)}}))
"""


def cli_loads(
    argv: list[str], forbidden: tuple[str, ...], *, timeout: float = 600
) -> tuple[object, list[str]]:
    """Run ``riskmodel ARGV`` in a fresh interpreter; its exit code and which of ``forbidden`` it loaded."""
    code = PROBE.format(argv=argv, forbidden=forbidden)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"riskmodel {' '.join(argv)} crashed:\n{done.stderr}"
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result["code"], result["loaded"]
