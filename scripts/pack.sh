#!/usr/bin/env bash
# `npm run pack [-- DIR]`: a clean build of the four packages, packed as npm tarballs into DIR (default dist/packs)
# that install together anywhere: npm install -g DIR/*.tgz. What a tarball holds is its package.json's `files`.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
# DIR is relative to where the command was typed (npm run starts scripts at the root and says where in INIT_CWD).
dest="$(cd "${INIT_CWD:-$PWD}" && realpath -m "${1:-$repo/dist/packs}")"
cd "$repo"

packages=(parser exporter core cli)
# tsc leaves the output of deleted sources in dist/, and a tarball would ship it: build from empty.
for p in "${packages[@]}"; do rm -rf "packages/$p/dist"; done
npx nx run-many -t build --outputStyle=static >/dev/null
mkdir -p "$dest"
npm pack --pack-destination "$dest" --loglevel=warn "${packages[@]/#/--workspace=packages/}" >/dev/null
for p in "${packages[@]}"; do echo "$dest/ktrace-$p-$(node -p "require('./packages/$p/package.json').version").tgz"; done
