#!/usr/bin/env bash
# Install everything the tests need (virtualenv, pip packages, Debian's chromium) and run the whole suite.
source "$(dirname "$0")/setup_env.sh" requirements-dev.txt
if ! command -v chromium >/dev/null 2>&1; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
exec .venv/bin/python -m pytest "$@"
