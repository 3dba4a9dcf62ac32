#!/usr/bin/env bash
# scripts/gpu-check.sh [LOG]: on a Linux x86_64 machine with an NVIDIA GPU (driver R555+, for CUDA 12.5),
# checks the CUDA build of the native backend end to end and writes everything to one log
# (default gpu-check-<date>.log in the current folder):
#   1. nvidia-smi, then `npm run build` and `npm run setup:native -- --gpu` (TensorFlow 2.21 + CUDA 12 wheels
#      from PyPI, ~2.5 GB the first time; NNUNET_NATIVE_PREFIX=DIR installs it outside node_modules);
#   2. that the backend `auto` picks is tfjs-node-gpu on a CUDA device (fails otherwise, with the reason);
#   3. the backend tests (test/network: backend, backprop, native ops, inference memory, whole-network gradients),
#      which exercise the CUDA build when it is installed (test/helpers/native-backend.ts);
#   4. the training step bench (3D and 2D nnU-Net iterations) and the inference bench (seconds per case).
# Run it from the repository root; it needs no GPU-specific options. Exit status: 0 when all steps pass.
set -uo pipefail
cd "$(dirname "$0")/.."
log="${1:-gpu-check-$(date +%Y%m%d-%H%M%S).log}"
failed=()

step() { # step NAME COMMAND...: runs one step, logs it, remembers failures
  local name="$1"; shift
  echo "=== $name: $*" | tee -a "$log"
  local t0=$SECONDS
  if "$@" 2>&1 | tee -a "$log"; then echo "=== $name: ok ($((SECONDS - t0)) s)" | tee -a "$log"
  else echo "=== $name: FAILED ($((SECONDS - t0)) s)" | tee -a "$log"; failed+=("$name"); fi
}

uses_cuda() {
  node -e "
    require('./dist/activities/network/backend').describeBackends().then((line) => {
      console.log(line);
      if (!/^tfjs-node-gpu .* on CUDA device/.test(line)) { console.error('the CUDA build is not on a GPU'); process.exit(1); }
    });"
}

step gpu nvidia-smi
step build npm run build
step setup npm run setup:native -- --gpu
step backend uses_cuda
step tests node --test dist/test/network/backend.test.js dist/test/network/backprop.test.js \
  dist/test/network/bench-native-ops.test.js dist/test/network/inference-memory.test.js \
  dist/test/network/train.test.js dist/test/network/gpu-reason.test.js
step bench-training node dist/bench/index.js training --backends tfjs-node-gpu
step bench-inference node dist/bench/index.js inference

if [ ${#failed[@]} -eq 0 ]; then echo "gpu-check: all steps passed; log: $log"; exit 0; fi
echo "gpu-check: failed steps: ${failed[*]}; log: $log" >&2
exit 1
