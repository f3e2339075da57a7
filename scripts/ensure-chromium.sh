#!/usr/bin/env bash
# Installs Debian's Chromium for the playground's browser test when it is not there yet (CI images, fresh machines).
# Safe to run again: an installed chromium is left alone.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
    echo "ensure-chromium: chromium is missing and this user cannot install packages (no root, no sudo)." >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y chromium
command -v chromium >/dev/null 2>&1
