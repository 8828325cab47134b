#!/usr/bin/env bash
# The main job end to end on a local registry: push, pin, push again, see the pin move.
# Runs in the test environment (.venv) when scripts/test.sh has made it; otherwise it makes the
# much smaller .venv-demo with only what the demo runs (see `bash scripts/bootstrap.sh demo`).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f ".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)" ]; then
  venv=.venv
else
  bash scripts/bootstrap.sh demo
  venv=.venv-demo
fi
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 CHECKPOINT_DISABLE=1 TF_CLI_CONFIG_FILE=/dev/null
exec "$venv/bin/python" -m examples.demo "$@"
