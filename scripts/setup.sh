#!/usr/bin/env bash
# `npm run setup [-- --cpu|--gpu] [--tf VERSION]`: dependencies, the Temporal binary, then the native tensor
# backend with the given options (scripts/setup-native/setup.sh; by default --gpu where an NVIDIA driver is
# loaded). A native backend that cannot be built is not fatal: training then uses the pure-JS backend.
set -euo pipefail
npm install --no-audit --no-fund
npm run setup:temporal
npm run setup:native -- "$@" ||
  echo "[setup] native tensor backend not installed: training uses the pure-JS backend (see docs/backends.md)"
