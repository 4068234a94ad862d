#!/usr/bin/env bash
# Open a `bench report` HTML file in headless Chromium (Debian's `chromium` package) with every
# host name unresolvable, so the page must render from the file alone, and save a screenshot.
#   bash benchmarks/screenshot_report.sh REPORT.html OUT.png [WIDTH] [HEIGHT]
# HEIGHT is the viewport height in pixels: make it tall to capture the whole page.
set -euo pipefail
report=${1:?usage: screenshot_report.sh REPORT.html OUT.png [WIDTH] [HEIGHT]}
out=${2:?usage: screenshot_report.sh REPORT.html OUT.png [WIDTH] [HEIGHT]}
width=${3:-1400}
height=${4:-9000}
browser=${CHROMIUM:-chromium}
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --host-resolver-rules="MAP * ~NOTFOUND" --user-data-dir="$profile" --hide-scrollbars \
  --window-size="${width},${height}" --screenshot="$(realpath -m "$out")" "file://$(realpath "$report")" 2>/dev/null
echo "wrote $out"
