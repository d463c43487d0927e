"""Run the conformance corpus once per optimisation pass, with that pass switched off.

    .venv/bin/python tests/jit/conformance_per_pass.py [pass ...]

Each run is a subprocess of ``conformance/run.py`` with ``TENSORSCRIPT_DISABLE_PASSES``; the
exit status is non-zero when any run has a failure. ``test_passes_conformance.py`` runs a
slice of the corpus the same way, in-process.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PASSES = ("fold_constants", "specialize_shapes", "unroll_loops", "simplify_algebra",
          "decompose_composites", "eliminate_common_subexpressions", "specialize")
RUNNER = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "run.py"


def main(argv: list) -> int:
    names = list(argv) or list(PASSES)
    failed = 0
    for name in names:
        env = dict(os.environ, TENSORSCRIPT_DISABLE_PASSES=name)
        proc = subprocess.run([sys.executable, str(RUNNER), "--backend", "tensorscript"],
                              env=env, capture_output=True, text=True)
        last = (proc.stdout.strip().splitlines() or ["no output"])[-1]
        print(f"{name:34} {last}")
        failed += proc.returncode != 0 or " 0 failed" not in last
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
