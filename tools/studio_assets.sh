#!/usr/bin/env bash
# Rebuild the studio's vendored form library from the npm registry (run by hand when upgrading;
# the built file is committed, so nothing is fetched when the studio runs or CI tests it).
# @json-editor/json-editor ships a ready dist build (one self-contained file, MIT): it is copied
# as it is, with its licence beside it.
set -euo pipefail
cd "$(dirname "$0")/.."
version="${1:-2.17.2}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm init -y >/dev/null && npm install --no-audit --no-fund --ignore-scripts \
  "@json-editor/json-editor@${version}" >/dev/null)
package="$work/node_modules/@json-editor/json-editor"
vendor=runtime/mscal/studio/static/vendor
mkdir -p "$vendor"
cp "$package/dist/jsoneditor.js" "$vendor/jsoneditor.js"
{ cat "$package/LICENSE"; echo; cat "$package/dist/jsoneditor.js.LICENSE.txt"; } \
  > "$vendor/jsoneditor.LICENSE.txt"
echo "@json-editor/json-editor@${version}" > "$vendor/VERSION"
ls -l "$vendor"
