#!/usr/bin/env bash
# Refresh the vendored front-end files from the npm registry. Running guanxi needs no
# build step: the files below are committed, this script only updates them.
set -euo pipefail
HTMX_VERSION=2.0.8
ECHARTS_VERSION=6.1.0
SWAGGER_UI_VERSION=5.36.0
dest="$(cd "$(dirname "$0")/.." && pwd)/src/guanxi/web/static/vendor"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
npm pack --silent "htmx.org@${HTMX_VERSION}" "echarts@${ECHARTS_VERSION}" \
  "swagger-ui-dist@${SWAGGER_UI_VERSION}" >/dev/null
mkdir htmx echarts swagger-ui
tar -xzf "htmx.org-${HTMX_VERSION}.tgz" -C htmx
tar -xzf "echarts-${ECHARTS_VERSION}.tgz" -C echarts
tar -xzf "swagger-ui-dist-${SWAGGER_UI_VERSION}.tgz" -C swagger-ui
mkdir -p "$dest"
cp htmx/package/dist/htmx.min.js "$dest/htmx.min.js"
cp htmx/package/LICENSE "$dest/htmx.LICENSE"
cp echarts/package/dist/echarts.min.js "$dest/echarts.min.js"
cp echarts/package/LICENSE "$dest/echarts.LICENSE"
# The API documentation page: the bundle (React and all) and its style sheet, no source maps.
sed '/^\/\/# sourceMappingURL=/d' swagger-ui/package/swagger-ui-bundle.js >"$dest/swagger-ui-bundle.js"
sed '/^\/\*# sourceMappingURL=/d' swagger-ui/package/swagger-ui.css >"$dest/swagger-ui.css"
cp swagger-ui/package/LICENSE "$dest/swagger-ui.LICENSE"
cp swagger-ui/package/NOTICE "$dest/swagger-ui.NOTICE"
cat > "$dest/VERSIONS" <<EOV
htmx.org ${HTMX_VERSION} (npm registry, dist/htmx.min.js)
echarts ${ECHARTS_VERSION} (npm registry, dist/echarts.min.js)
swagger-ui-dist ${SWAGGER_UI_VERSION} (npm registry, swagger-ui-bundle.js and swagger-ui.css)
EOV
echo "vendored htmx ${HTMX_VERSION}, echarts ${ECHARTS_VERSION} and swagger-ui-dist ${SWAGGER_UI_VERSION} into $dest"
