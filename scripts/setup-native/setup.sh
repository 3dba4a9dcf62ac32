#!/usr/bin/env bash
# `npm run setup:native`: installs @tensorflow/tfjs-node (libtensorflow CPU, oneDNN kernels) without its
# normal download site, from package registries only:
#   1. the TensorFlow C API library + headers come from the tensorflow-cpu wheel on PyPI (pinned + sha256);
#      in that wheel the C API lives in _pywrap_tensorflow_internal.so, a Python extension, so a small
#      generated stand-in for the CPython symbols it references lets it load in Node (make-pystub.sh);
#   2. @tensorflow/tfjs-node is installed from npm with --ignore-scripts --no-save (never a package.json
#      dependency: its own install script downloads from outside the registries and would break `npm ci`);
#   3. its addon (tfjs_binding.node) is compiled with node-gyp against those, using this Node's own headers.
# Idempotent: everything heavy is cached under ~/.cache/nnunet-ts/native/ and a stamp skips finished work.
# Rerun it after a plain `npm install` (npm prunes packages that package.json does not list); that takes seconds.
# Users with internet can instead run plain `npm install --no-save @tensorflow/tfjs-node@4.22.0`.
set -euo pipefail

TFJS_NODE_VERSION="4.22.0"            # must match @tensorflow/tfjs in package.json (one tfjs-core instance)
TF_WHEEL_VERSION="2.9.3"              # tfjs-node 4.22 is built for libtensorflow 2.9.1; 2.9.3 is its patch line
TF_WHEEL_FILE="tensorflow_cpu-2.9.3-cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
TF_WHEEL_SHA256="9037ab0580b0dfcc054713490dd6c84a6e66ea32216488faadcc2e8f7a0abaa8"

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${NNUNET_CACHE_DIR:-$HOME/.cache/nnunet-ts}/native/tensorflow-cpu-$TF_WHEEL_VERSION"
pkg="$repo/node_modules/@tensorflow/tfjs-node"
stamp="$pkg/deps/.nnunet-native-stamp"
stamp_text="tfjs-node=$TFJS_NODE_VERSION tf=$TF_WHEEL_VERSION napi=$(node -p process.versions.napi) cache=$cache"

log() { echo "[setup:native] $*"; }
die() { echo "[setup:native] error: $*" >&2; exit 1; }

check_platform() {
  [ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] ||
    die "only Linux x86_64 is supported by this offline path; elsewhere run: npm install --no-save @tensorflow/tfjs-node@$TFJS_NODE_VERSION"
  for tool in python3 gcc g++ make readelf unzip sha256sum; do
    command -v "$tool" >/dev/null || die "'$tool' is required (Debian: apt-get install build-essential binutils unzip python3-pip)"
  done
  python3 -m pip --version >/dev/null 2>&1 || die "python3 -m pip is required to fetch the TensorFlow wheel (apt-get install python3-pip)"
}

fetch_wheel() {
  local dir="$cache/wheel"
  if [ -f "$dir/$TF_WHEEL_FILE" ] && echo "$TF_WHEEL_SHA256  $dir/$TF_WHEEL_FILE" | sha256sum -c --status; then
    return
  fi
  log "downloading tensorflow-cpu==$TF_WHEEL_VERSION from PyPI (~200 MB)"
  mkdir -p "$dir"
  echo "tensorflow-cpu==$TF_WHEEL_VERSION --hash=sha256:$TF_WHEEL_SHA256" >"$dir/requirements.txt"
  python3 -m pip download --quiet --no-deps --require-hashes --only-binary=:all: \
    --python-version 3.10 --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
    -r "$dir/requirements.txt" -d "$dir"
  echo "$TF_WHEEL_SHA256  $dir/$TF_WHEEL_FILE" | sha256sum -c --status || die "checksum mismatch for $TF_WHEEL_FILE"
}

# Lays out $cache/{lib,include} like a libtensorflow release, so binding.gyp's `-ltensorflow` links to it.
stage_libtensorflow() {
  [ -f "$cache/.staged" ] && return
  log "extracting the TensorFlow C library and headers"
  local tmp="$cache/extract.tmp"
  rm -rf "$tmp" "$cache/lib" "$cache/include" && mkdir -p "$tmp"
  unzip -q -o "$cache/wheel/$TF_WHEEL_FILE" -d "$tmp" \
    'tensorflow/python/_pywrap_tensorflow_internal.so' 'tensorflow/libtensorflow_framework.so.2' \
    'tensorflow/include/tensorflow/c/*' 'tensorflow/include/tensorflow/core/platform/ctstring*.h'
  mkdir -p "$cache/lib"
  mv "$tmp/tensorflow/python/_pywrap_tensorflow_internal.so" "$tmp/tensorflow/libtensorflow_framework.so.2" "$cache/lib/"
  mv "$tmp/tensorflow/include" "$cache/include"
  rm -rf "$tmp"
  ln -sf libtensorflow_framework.so.2 "$cache/lib/libtensorflow_framework.so"
  bash "$here/make-pystub.sh" "$cache/lib/_pywrap_tensorflow_internal.so" >"$cache/lib/pystub.c"
  gcc -shared -fPIC -O1 -Wl,-soname,libnnunet_pystub.so -o "$cache/lib/libnnunet_pystub.so" "$cache/lib/pystub.c"
  # A linker script: `-ltensorflow` pulls in the C API library and the CPython stand-in it needs.
  echo 'INPUT(_pywrap_tensorflow_internal.so libnnunet_pystub.so)' >"$cache/lib/libtensorflow.so"
  touch "$cache/.staged"
}

install_tfjs_node() {
  if [ -f "$pkg/package.json" ] && [ "$(node -p "require('$pkg/package.json').version")" = "$TFJS_NODE_VERSION" ]; then
    return
  fi
  log "installing @tensorflow/tfjs-node@$TFJS_NODE_VERSION from npm (scripts off, not saved to package.json)"
  local lock=(); command -v flock >/dev/null && lock=(flock /tmp/npm.lock) # others may run npm in this checkout
  (cd "$repo" && "${lock[@]}" npm install --no-save --ignore-scripts --no-audit --no-fund \
    "@tensorflow/tfjs-node@$TFJS_NODE_VERSION")
}

build_addon() {
  local node_prefix node_gyp napi
  node_prefix="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
  [ -f "$node_prefix/include/node/node_api.h" ] || die "Node headers not found under $node_prefix/include/node"
  node_gyp="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
  [ -f "$node_gyp" ] || die "node-gyp (bundled with npm) not found at $node_gyp"
  # The N-API version node-pre-gyp will look for: the highest in tfjs-node's list that this Node supports.
  napi="$(node -p "Math.max(...require('$pkg/package.json').binary.napi_versions.filter(v => v <= +process.versions.napi))")"
  mkdir -p "$pkg/deps"
  ln -sfn "$cache/lib" "$pkg/deps/lib"
  ln -sfn "$cache/include" "$pkg/deps/include"
  # npm prunes tfjs-node whenever someone runs a plain `npm install`; keep the compiled addon to restore it fast.
  local built="$cache/addon/tfjs-node-$TFJS_NODE_VERSION-napi-v$napi/tfjs_binding.node"
  if [ -f "$built" ]; then
    log "reusing the compiled addon from the cache"
    mkdir -p "$pkg/lib/napi-v$napi" && cp "$built" "$pkg/lib/napi-v$napi/tfjs_binding.node"
    return
  fi
  log "compiling tfjs_binding.node (N-API $napi) with node-gyp"
  (cd "$pkg" && node "$node_gyp" rebuild --nodedir="$node_prefix" --jobs=1 \
    --module_name=tfjs_binding --module_path="$pkg/lib/napi-v$napi" --napi_build_version="$napi" >"$cache/node-gyp.log" 2>&1) ||
    { tail -30 "$cache/node-gyp.log" >&2; die "addon build failed (full log: $cache/node-gyp.log)"; }
  mkdir -p "$(dirname "$built")" && cp "$pkg/lib/napi-v$napi/tfjs_binding.node" "$built"
}

verify() {
  (cd "$repo" && TF_CPP_MIN_LOG_LEVEL=2 node -e "
    const tf = require('@tensorflow/tfjs');
    require('@tensorflow/tfjs-node');
    tf.setBackend('tensorflow').then(() => {
      const y = tf.conv3d(tf.ones([1, 4, 4, 4, 2]), tf.ones([3, 3, 3, 2, 1]), 1, 'same');
      const v = y.dataSync()[21]; // an interior voxel sees 27 taps x 2 channels
      if (tf.getBackend() !== 'tensorflow' || v !== 54) { console.error('unexpected', tf.getBackend(), v); process.exit(1); }
      console.log('[setup:native] ok: backend', tf.getBackend(), 'libtensorflow', tf.backend().binding.TF_Version);
    });") || die "the built backend does not work"
}

main() {
  check_platform
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$stamp_text" ] && [ -e "$pkg/deps/lib/libtensorflow.so" ]; then
    log "already set up ($stamp_text)"; verify; return
  fi
  fetch_wheel
  stage_libtensorflow
  install_tfjs_node
  build_addon
  verify
  echo "$stamp_text" >"$stamp"
}

main "$@"
