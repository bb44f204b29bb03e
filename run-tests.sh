#!/usr/bin/env bash
# Runs faultline's whole test suite: installs missing packages, builds with warnings as errors,
# and runs ctest (unit, SimGrid adapter, scenario library, bad input, determinism, swarm).
set -euo pipefail
cd "$(dirname "$0")"
./setup.sh --deps-only
cmake -S . -B build -DFAULTLINE_WERROR=ON
cmake --build build -j"$(nproc)"
ctest --test-dir build -j"$(nproc)" --output-on-failure "$@"
