#!/usr/bin/env bash
# Installs what `npm run build` needs to compile the WebAssembly engine: clang and lld (wasm-ld) with the
# wasm32 target. Idempotent: does nothing when they already compile and link a SIMD module. Debian/Ubuntu
# (apt-get, as root or through sudo); elsewhere it says what to install and exits 0, so the rest of the
# build goes on without the wasm engine.
set -uo pipefail

probe() {
  local dir
  dir=$(mktemp -d)
  printf 'typedef float v __attribute__((vector_size(16)));\nextern "C" __attribute__((export_name("f"))) float f(v a) { return (a * a)[0]; }\n' >"$dir/t.cpp"
  clang++ --target=wasm32 -O2 -msimd128 -nostdlib -Wl,--no-entry -o "$dir/t.wasm" "$dir/t.cpp" >/dev/null 2>&1
  local rc=$?
  rm -rf "$dir"
  return $rc
}

if command -v clang++ >/dev/null 2>&1 && probe; then
  echo "[wasm-setup] clang with wasm32 + lld present: $(clang++ --version | head -n 1)"
  exit 0
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else SUDO="none"; fi
fi
if command -v apt-get >/dev/null 2>&1 && [ "$SUDO" != none ]; then
  echo "[wasm-setup] installing clang and lld with apt-get"
  $SUDO apt-get install -y --no-install-recommends clang lld >/dev/null ||
    { $SUDO apt-get update >/dev/null && $SUDO apt-get install -y --no-install-recommends clang lld >/dev/null; } ||
    echo "[wasm-setup] apt-get could not install clang and lld"
fi

if command -v clang++ >/dev/null 2>&1 && probe; then
  echo "[wasm-setup] ready: $(clang++ --version | head -n 1)"
else
  echo "[wasm-setup] clang++ with the wasm32 target and lld (wasm-ld) are not available: install them (Debian/Ubuntu: apt-get install clang lld; macOS: brew install llvm lld) to build the wasm engine. Continuing without it."
fi
