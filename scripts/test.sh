#!/usr/bin/env bash
# Install everything the tests need (virtualenv, pip packages, Debian packages) and run the whole suite.
source "$(dirname "$0")/setup_env.sh" requirements-dev.txt
# Debian's chromium (browser tests, chart export), poppler-utils (PDF checks), nginx (deploy/nginx.conf tests),
# npm (installs axe-core for the accessibility test)
if ! command -v chromium >/dev/null 2>&1 || ! command -v pdftoppm >/dev/null 2>&1 || ! command -v nginx >/dev/null 2>&1 \
        || ! command -v npm >/dev/null 2>&1; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium poppler-utils nginx npm >/dev/null
fi
# axe-core for the accessibility browser test, from the npm registry, once (tests/.axe is gitignored)
AXE_VERSION=4.14.1
if ! grep -qs "\"version\": \"$AXE_VERSION\"" tests/.axe/node_modules/axe-core/package.json; then
    npm install --silent --no-audit --no-fund --prefix tests/.axe "axe-core@$AXE_VERSION" >/dev/null
fi
exec .venv/bin/python -m pytest "$@"
