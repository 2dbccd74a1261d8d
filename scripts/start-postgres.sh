#!/usr/bin/env bash
# Installs (if needed) and starts Debian's PostgreSQL on 127.0.0.1:5432 for user `postgres`, the way
# the tests expect it. CI ONLY / a throwaway development machine: it sets `trust` authentication for
# loopback connections, so any local user can log in as any role without a password. Never run it
# on a machine whose PostgreSQL holds anything you care about.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
if ! command -v pg_ctlcluster >/dev/null || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  timeout 600 apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi
ver="$(ls /usr/lib/postgresql | sort -V | tail -1)"
if [ ! -d "/etc/postgresql/$ver/main" ]; then
  pg_createcluster "$ver" main >/dev/null
fi
conf="/etc/postgresql/$ver/main"
# Loopback only, trust (CI): the tests log in as postgres and as per-run lane roles with no password.
cat >"$conf/pg_hba.conf" <<'HBA'
# Written by scripts/start-postgres.sh for CI: trust on loopback only. Not for a shared machine.
local   all   postgres                 peer
local   all   all                      peer
host    all   all   127.0.0.1/32       trust
host    all   all   ::1/128            trust
HBA
cat >"$conf/conf.d/duallane-ci.conf" <<'PGCONF'
# Written by scripts/start-postgres.sh: loopback only, enough connections for the parallel tests.
listen_addresses = '127.0.0.1'
port = 5432
max_connections = 200
PGCONF
if pg_ctlcluster "$ver" main status >/dev/null 2>&1; then
  pg_ctlcluster "$ver" main restart
else
  pg_ctlcluster "$ver" main start
fi
for _ in $(seq 1 60); do
  pg_isready -h 127.0.0.1 -p 5432 -q && break
  sleep 0.5
done
pg_isready -h 127.0.0.1 -p 5432
psql -h 127.0.0.1 -U postgres -Atc 'select version()'
