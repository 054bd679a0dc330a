#!/usr/bin/env bash
# Refresh the vendored front-end files from the npm registry. Running guanxi needs no
# build step: the files below are committed, this script only updates them.
set -euo pipefail
HTMX_VERSION=2.0.8
ECHARTS_VERSION=6.1.0
dest="$(cd "$(dirname "$0")/.." && pwd)/src/guanxi/web/static/vendor"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
npm pack --silent "htmx.org@${HTMX_VERSION}" "echarts@${ECHARTS_VERSION}" >/dev/null
mkdir htmx echarts
tar -xzf "htmx.org-${HTMX_VERSION}.tgz" -C htmx
tar -xzf "echarts-${ECHARTS_VERSION}.tgz" -C echarts
mkdir -p "$dest"
cp htmx/package/dist/htmx.min.js "$dest/htmx.min.js"
cp htmx/package/LICENSE "$dest/htmx.LICENSE"
cp echarts/package/dist/echarts.min.js "$dest/echarts.min.js"
cp echarts/package/LICENSE "$dest/echarts.LICENSE"
cat > "$dest/VERSIONS" <<EOV
htmx.org ${HTMX_VERSION} (npm registry, dist/htmx.min.js)
echarts ${ECHARTS_VERSION} (npm registry, dist/echarts.min.js)
EOV
echo "vendored htmx ${HTMX_VERSION} and echarts ${ECHARTS_VERSION} into $dest"
