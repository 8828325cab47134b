#!/usr/bin/env bash
# Run the whole test suite against real local registries and real Terraform (see README).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 CHECKPOINT_DISABLE=1 TF_CLI_CONFIG_FILE=/dev/null
exec .venv/bin/python -m pytest "$@"
