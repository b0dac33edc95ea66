#!/usr/bin/env bash
# Install a headless browser for the real-browser dashboard tests (tests/dashboard/test_browser.py).
# Idempotent: does nothing when /usr/bin/chromium is already there. Uses Debian's chromium package
# (Playwright's own browser download needs internet access the CI machine does not have).
# Never fails the build: when it cannot install, it says how and exits 0, and the browser tests skip.
set -uo pipefail

CHROMIUM=${TOOLKIT_CHROMIUM:-/usr/bin/chromium}
if [ -x "$CHROMIUM" ]; then
  exit 0
fi

how="Install it with: sudo apt-get install -y chromium   (Debian/Ubuntu); the browser tests skip until then."
if ! command -v apt-get >/dev/null 2>&1; then
  echo "note: no $CHROMIUM and no apt-get on this machine. $how" >&2
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
  else
    echo "note: no $CHROMIUM, and installing it needs root. $how" >&2
    exit 0
  fi
else
  SUDO=""
fi

echo "Installing Debian's chromium for the browser tests (once)..."
export DEBIAN_FRONTEND=noninteractive
if ! { $SUDO apt-get -qq update >/dev/null && \
       $SUDO apt-get -qq install -y --no-install-recommends chromium >/dev/null; }; then
  echo "note: apt-get could not install chromium. $how" >&2
  exit 0
fi
if [ ! -x "$CHROMIUM" ]; then
  echo "note: chromium was installed but $CHROMIUM is missing. $how" >&2
fi
exit 0
