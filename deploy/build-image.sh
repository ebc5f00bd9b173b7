#!/usr/bin/env bash
# Builds the mail-runbooks image from this checkout, with no registry: the package (npm pack, production
# dependencies only), this machine's Node.js binary (node on PATH, or $MRB_NODE_BIN; Node 20.19+, a Linux
# build for glibc) and the Temporal CLI when one is found ($MRB_TEMPORAL_BIN, PATH, $MRB_TOOLS_DIR), on
# deploy/Dockerfile.   deploy/build-image.sh [tag]   (default mail-runbooks:<version>)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=$(node -p "require('$root/package.json').version")
tag=${1:-mail-runbooks:$version}
base=${MRB_IMAGE_BASE:-mail-runbooks/base:bookworm}
if ! docker image inspect "$base" >/dev/null 2>&1; then
  echo "build-image: base image $base not found: build it with \`npm run lab -- base\` (a debootstrapped" \
    "Debian), or set MRB_IMAGE_BASE to a Debian bookworm image you have" >&2
  exit 1
fi
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
"$root/scripts/install-package.sh" "$ctx/app"
cp "${MRB_NODE_BIN:-$(command -v node)}" "$ctx/node"
mkdir "$ctx/extra-bin"
temporal=${MRB_TEMPORAL_BIN:-$(command -v temporal || true)}
[ -z "$temporal" ] && [ -x "${MRB_TOOLS_DIR:-$root/.tools/bin}/temporal" ] && temporal=${MRB_TOOLS_DIR:-$root/.tools/bin}/temporal
if [ -n "$temporal" ]; then cp "$temporal" "$ctx/extra-bin/temporal"; else echo "build-image: no Temporal CLI found: the image has none"; fi
cp "$root/deploy/Dockerfile" "$ctx/Dockerfile"
docker build --quiet --build-arg "BASE=$base" --label "org.opencontainers.image.version=$version" -t "$tag" "$ctx" >/dev/null
echo "built: $tag"
