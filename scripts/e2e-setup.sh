#!/usr/bin/env bash
# Idempotent setup for the VS Code tiers of the tests: Debian Chromium, ripgrep and libkrb5-dev from apt,
# and code-server 4.100.3 (VS Code 1.100.3, the last release for Node 20) in .e2e/code-server.
# Works offline except for the npm registry and Debian apt (see shared/docs/vscode-e2e-recipe.md).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CSDIR="${CSDIR:-$ROOT/.e2e/code-server}"
CS_VERSION=4.100.3
need=()
command -v chromium >/dev/null || need+=(chromium)
command -v rg >/dev/null || need+=(ripgrep)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need+=(libkrb5-dev)
if [ ${#need[@]} -gt 0 ]; then
  echo "e2e-setup: apt-get install ${need[*]}"
  for i in 1 2 3; do # the apt lock may be briefly held by another process
    if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null; then break; fi
    [ "$i" = 3 ] && { echo "e2e-setup: apt-get install failed" >&2; exit 1; }
    sleep 5
  done
fi
if ! XDG_CONFIG_HOME="$ROOT/.e2e/xdg" "$CSDIR/node_modules/.bin/code-server" --version 2>/dev/null | grep -q "^$CS_VERSION "; then
  echo "e2e-setup: installing code-server@$CS_VERSION into $CSDIR (about 70 s)"
  export TMPDIR="${TMPDIR:-$(dirname "$(mktemp -u)")}"
  # @vscode/ripgrep's postinstall downloads from GitHub: pre-seed its cache with Debian's rg instead.
  RGC="$TMPDIR/vscode-ripgrep-cache-1.15.11"; mkdir -p "$RGC"
  tar czf "$RGC/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C "$(dirname "$(command -v rg)")" rg
  mkdir -p "$CSDIR"; cd "$CSDIR"; [ -f package.json ] || npm init -y >/dev/null
  # Install scripts of dependencies (and of the nested npm install in lib/vscode) must run; as root they
  # need unsafe-perm; node-pty's postinstall uses npx, which must not prompt.
  npm_config_dangerously_allow_all_scripts=true npm_config_unsafe_perm=true npm_config_yes=true \
    npm install --no-audit --no-fund --loglevel=error "code-server@$CS_VERSION"
  XDG_CONFIG_HOME="$ROOT/.e2e/xdg" "$CSDIR/node_modules/.bin/code-server" --version | grep -q "^$CS_VERSION " \
    || { echo "e2e-setup: code-server $CS_VERSION did not install" >&2; exit 1; }
fi
echo "e2e-setup: ready (chromium $(chromium --version 2>/dev/null | awk '{print $2}'), code-server $CS_VERSION)"
