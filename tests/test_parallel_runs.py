"""`scripts/test.sh` runs the suite on pytest-xdist workers with `--dist loadgroup`: the tests of
one group (tests/conftest.py's XDIST_GROUPS) must all run in one worker, or each worker pays
for what the group shares (a jsii kernel with every binding loaded, a wheel, a scenario).
pytest-xdist stops grouping silently when pytest changes how it keeps node ids (9.2 did).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

from tests.support.docs import ROOT


def test_a_groups_tests_all_run_in_one_worker() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-n",
            "2",
            "--dist",
            "loadgroup",
            "-v",
            "-p",
            "no:cacheprovider",
            "tests/core/test_batch.py",  # group "core-batch"
            "tests/core/test_fields.py",  # no group: spread over both workers
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    ran = re.findall(r"^\[(gw\d)\] .* PASSED (tests/core/test_\w+\.py)", done.stdout, re.M)
    workers = {file: {worker for worker, f in ran if f == file} for _, file in ran}
    assert len([f for _, f in ran if f == "tests/core/test_batch.py"]) >= 5
    assert len(workers["tests/core/test_batch.py"]) == 1, ran
