#!/usr/bin/env bash
# Install what building and testing driftwood needs beyond a Swift toolchain. Idempotent: it
# checks first and installs only what is missing, so `make demo` / `make test` can call it
# every time and a ready machine pays only a few milliseconds (and needs neither network nor root).
#
#   apt (Debian/Ubuntu): C libraries the C shims link against
#     libcurl4-openssl-dev  HTTP client of the Elasticsearch output (CCurl)
#     zlib1g-dev            gzip streams: reading .gz archives, gzip JSONL output (CZlib)
#     libdeflate-dev        fast whole-buffer gzip for _bulk bodies (CZlib)
#   pip (for the python3 on PATH): test tooling
#     numpy, scipy          reference values for the drift metrics (PSI/KL/JS to 1e-9)
#     osmem-server          OpenSearch-compatible in-memory server for end-to-end output tests
#
# DRY_RUN=1 only prints what it would install.
set -euo pipefail

APT_PACKAGES=(libcurl4-openssl-dev zlib1g-dev libdeflate-dev)
PIP_PACKAGES=(numpy scipy osmem-server)

run() { echo "+ $*"; [ -n "${DRY_RUN:-}" ] || "$@"; }

# apt: only on dpkg systems; elsewhere (macOS) the libraries come from the platform or Homebrew.
if command -v dpkg >/dev/null 2>&1; then
  missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "install-deps: apt packages missing: ${missing[*]}"
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo   # root in containers/CI, sudo on a workstation
    run $sudo apt-get update
    run $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
  fi
else
  echo "install-deps: no dpkg; make sure libcurl, zlib and libdeflate headers are installed"
fi

# pip: checked by distribution name (importlib.metadata), because a package's import name
# can differ from the name it is installed under.
missing=()
for p in "${PIP_PACKAGES[@]}"; do
  python3 -c "import importlib.metadata, sys; importlib.metadata.version(sys.argv[1])" "$p" \
    >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: pip packages missing: ${missing[*]}"
  run python3 -m pip install --quiet "${missing[@]}"   # the same python3 the tests will run
fi

echo "install-deps: ok"
