#!/usr/bin/env bash
# Installs (if missing) and starts Debian's PostgreSQL on 127.0.0.1:5432 with a `cityledger` role
# and database, for the store tests. Prints the URL to use; exits non-zero if it cannot.
set -eu
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || { echo "PostgreSQL is not installed and we are not root"; exit 1; }
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
ver=$(ls /etc/postgresql | sort -n | tail -1)
pg_ctlcluster "$ver" main status >/dev/null 2>&1 || pg_ctlcluster "$ver" main start
for _ in $(seq 1 20); do pg_isready -q -h 127.0.0.1 && break; sleep 0.5; done
su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname='cityledger'\"" | grep -q 1 \
  || su postgres -c "psql -qc \"CREATE ROLE cityledger LOGIN SUPERUSER PASSWORD 'cityledger'\""
su postgres -c "psql -tAc \"SELECT 1 FROM pg_database WHERE datname='cityledger'\"" | grep -q 1 \
  || su postgres -c "createdb -O cityledger cityledger"
echo "postgresql+psycopg://cityledger:cityledger@127.0.0.1:5432/cityledger"
