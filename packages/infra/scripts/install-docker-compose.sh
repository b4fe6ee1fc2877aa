#!/usr/bin/env bash
# Installs the Docker Compose v2 CLI plugin (`docker compose`) where only the docker client exists,
# by building it from its Go module (github.com/docker/compose/v2) with the local Go toolchain.
# `docker compose config` needs no Docker engine, so this is enough to validate docker-compose.yml
# (packages/infra/src/container/compose.test.ts uses it when present).
#
#   bash packages/infra/scripts/install-docker-compose.sh     # ≈ 6 min on 2 cores the first time
#
# Environment: COMPOSE_VERSION (default v2.40.3), DOCKER_CONFIG (default ~/.docker).
set -euo pipefail

version="${COMPOSE_VERSION:-v2.40.3}"
plugin="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins/docker-compose"

if [ -x "$plugin" ] && "$plugin" version 2>/dev/null | grep -qF "$version"; then
  echo "docker compose $version is installed: $plugin"
  exit 0
fi
command -v go >/dev/null || { echo "install-docker-compose: needs the Go toolchain (go) on PATH" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export GOFLAGS=-mod=mod
# `go install pkg@version` refuses modules with replace/exclude directives, as compose has: build
# from a copy of the module instead.
dir="$(go mod download -json "github.com/docker/compose/v2@$version" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')"
[ -n "$dir" ] || { echo "install-docker-compose: could not download github.com/docker/compose/v2@$version" >&2; exit 1; }
cp -r "$dir" "$work/src"
chmod -R u+w "$work/src"
(cd "$work/src" && go build -trimpath \
  -ldflags "-s -w -X github.com/docker/compose/v2/internal.Version=$version" \
  -o "$work/docker-compose" ./cmd)
install -D -m 0755 "$work/docker-compose" "$plugin"
"$plugin" version
