#!/usr/bin/env bash
# Install PostgreSQL's server binaries for the store tests on PostgreSQL (tests/postgres.py makes a
# throw-away cluster from them in a temporary folder; nothing is started here, no service is used).
# Idempotent: does nothing when initdb and pg_ctl are already there. Uses Debian's postgresql package.
# Never fails the build: when it cannot install, it says how and exits 0, and the PostgreSQL tests skip.
set -uo pipefail

have_server() {
  [ -n "${TOOLKIT_PG_BIN:-}" ] && [ -x "$TOOLKIT_PG_BIN/initdb" ] && return 0
  command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1 && return 0
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && return 0
  done
  return 1
}

if have_server; then
  exit 0
fi

how="Install it with: sudo apt-get install -y postgresql   (Debian/Ubuntu); the PostgreSQL store tests skip until then."
if ! command -v apt-get >/dev/null 2>&1; then
  echo "note: no PostgreSQL server binaries and no apt-get on this machine. $how" >&2
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
  else
    echo "note: no PostgreSQL server binaries, and installing them needs root. $how" >&2
    exit 0
  fi
else
  SUDO=""
fi

echo "Installing Debian's postgresql for the store tests (once)..."
export DEBIAN_FRONTEND=noninteractive
if ! { $SUDO apt-get -qq update >/dev/null && \
       $SUDO apt-get -qq install -y --no-install-recommends postgresql >/dev/null; }; then
  echo "note: apt-get could not install postgresql. $how" >&2
  exit 0
fi
if ! have_server; then
  echo "note: postgresql was installed but initdb/pg_ctl are missing. $how" >&2
fi
exit 0
