#!/usr/bin/env bash
# Refresh the vendored htmx from the npm registry (run by hand, never at run time).
set -euo pipefail
version=${1:-2.0.8}
tmp=$(mktemp -d)
(cd "$tmp" && npm pack "htmx.org@$version" >/dev/null && tar xzf "htmx.org-$version.tgz")
dest=$(dirname "$0")/../portal/static/vendor/htmx
cp "$tmp/package/dist/htmx.min.js" "$dest/htmx.min.js"
cp "$tmp/package/LICENSE" "$dest/LICENSE"
printf 'htmx.org %s from the npm registry (npm pack htmx.org@%s): dist/htmx.min.js and LICENSE (BSD 0-Clause).\nRefresh with scripts/vendor-htmx.sh.\n' "$version" "$version" > "$dest/SOURCE.txt"
