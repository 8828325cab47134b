#!/usr/bin/env bash
# Run the whole test suite against real local registries and real Terraform (see README), on
# parallel workers (pytest-xdist: one per core; IMAGE_DIGEST_TEST_WORKERS=N to choose, 0 for
# none). Tests that share a jsii kernel, a built wheel or a scenario stay in one worker
# (`--dist loadgroup`, groups in tests/conftest.py).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 CHECKPOINT_DISABLE=1 TF_CLI_CONFIG_FILE=/dev/null
exec .venv/bin/python -m pytest -n "${IMAGE_DIGEST_TEST_WORKERS:-auto}" --dist loadgroup "$@"
