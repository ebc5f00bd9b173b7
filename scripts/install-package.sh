#!/usr/bin/env bash
# Packs this checkout (`npm pack`, whose prepack runs `npm run build`) and installs the tarball into the
# prefix given, with production dependencies only: <prefix>/bin/mail-runbooks{,-start,-worker}.
# Used by deploy/build-image.sh and the package test; the same two npm commands work by hand.
#   scripts/install-package.sh <prefix>   (MRB_SKIP_BUILD=1: pack the dist/ already built)
set -euo pipefail
prefix=${1:?usage: scripts/install-package.sh <prefix>}
root=$(cd "$(dirname "$0")/.." && pwd)
packs=$(mktemp -d)
trap 'rm -rf "$packs"' EXIT
pack_flags=(--pack-destination "$packs" --silent)
[ "${MRB_SKIP_BUILD:-}" = 1 ] && pack_flags+=(--ignore-scripts)
(cd "$root" && npm pack "${pack_flags[@]}" >/dev/null)
# --prefer-offline: the npm cache answers when it can (the registry only for what it lacks).
npm install --global --prefix "$prefix" --omit=dev --prefer-offline --no-audit --no-fund --loglevel=error \
  "$packs"/mail-runbooks-*.tgz
echo "installed: $prefix/bin/mail-runbooks ($("$prefix/bin/mail-runbooks" --version))"
