#!/usr/bin/env bash
# Sets up faultline on Debian 12: installs the Debian packages it needs (only those missing),
# builds it, and runs the default scenario.
#   ./setup.sh              install + build + run scenarios/raft/leader-crash.yaml
#   ./setup.sh --deps-only  install the packages only
#   ./setup.sh --no-run     install + build
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(build-essential cmake pkg-config libsimgrid-dev libfmt-dev libcli11-dev libyaml-cpp-dev
          nlohmann-json3-dev libgtest-dev python3 python3-matplotlib python3-jsonschema)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "setup: all Debian packages already installed"
fi
[ "${1:-}" = "--deps-only" ] && exit 0

cmake -S . -B build ${FAULTLINE_CMAKE_ARGS:-}
cmake --build build -j"$(nproc)"
[ "${1:-}" = "--no-run" ] && exit 0

echo
echo "setup: running the default scenario"
./build/faultline run scenarios/raft/leader-crash.yaml
