#!/usr/bin/env bash
# Install what building and testing driftwood needs beyond a Swift toolchain. Idempotent: it
# checks first and installs only what is missing, so `make demo` / `make test` can call it
# every time and a ready machine pays only a few milliseconds (and needs neither network nor root).
#
#   apt (Debian/Ubuntu): C libraries the C shims link against
#     libcurl4-openssl-dev  HTTP client of the Elasticsearch output (CCurl)
#     zlib1g-dev            gzip streams: reading .gz archives, gzip JSONL output (CZlib)
#     libdeflate-dev        fast whole-buffer gzip for _bulk bodies (CZlib)
#     libre2-dev            linear-time regular expressions (CRE2)
#     librdkafka-dev        Kafka producer and consumer (CKafka)
#   apt: servers and tools the end-to-end tests start on 127.0.0.1
#     prometheus            scrapes a running pipeline; promtool checks /metrics and the alerting rules
#     prometheus-alertmanager  receives the alertmanager output's alerts
#     chromium              headless: loads the status page, takes its screenshot
#     firefox-esr           headless: the same page checked in Firefox (WebDriver BiDi)
#     logrotate             copytruncate rotation as users run it
#     tmux                  drives `driftwood top` like a terminal
#     kcat, gcc             the Kafka tests build Tests/Fixtures/kafka/mock_cluster.c (librdkafka's
#                           mock cluster) with gcc and read and write topics with kcat
#   pip (for the python3 on PATH): test tooling
#     numpy, scipy          reference values for the drift metrics (PSI/KL/JS to 1e-9)
#     osmem-server          OpenSearch-compatible in-memory server for end-to-end output tests
#     scikit-learn, fairlearn  reference values for `evaluate` (performance and fairness, to 1e-9)
#     mlflow==3.17.2        a real tracking server for the mlflow output
#     aiohttp               its WebSocket client speaks the DevTools protocol to headless Chromium
#
# DRY_RUN=1 only prints what it would install.
set -euo pipefail

APT_PACKAGES=(libcurl4-openssl-dev zlib1g-dev libdeflate-dev libre2-dev librdkafka-dev
  prometheus prometheus-alertmanager chromium firefox-esr logrotate tmux kcat gcc)
PIP_PACKAGES=(numpy scipy osmem-server scikit-learn fairlearn mlflow==3.17.2 aiohttp)

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
# can differ from the name it is installed under; a pinned one (name==version) must have that version.
missing=()
for p in "${PIP_PACKAGES[@]}"; do
  python3 -c "
import importlib.metadata, sys
name, _, want = sys.argv[1].partition('==')
have = importlib.metadata.version(name)
sys.exit(0 if not want or have == want else 1)" "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: pip packages missing: ${missing[*]}"
  run python3 -m pip install --quiet "${missing[@]}"   # the same python3 the tests will run
fi

echo "install-deps: ok"
