#!/usr/bin/env bash
# Set up and run every test: the virtualenv, PostgreSQL (started if it is down), then pytest on
# SQLite and PostgreSQL. Extra arguments go to pytest, e.g. ./test.sh -k settings
set -euo pipefail
cd "$(dirname "$0")"

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'

# PostgreSQL: use REBOUND_TEST_POSTGRES_URL if given, else the local server (trust auth).
if [ -z "${REBOUND_TEST_POSTGRES_URL:-}" ]; then
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
      echo "Starting the local PostgreSQL server…"
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
      for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
    fi
  fi
  for pg_user in postgres root; do
    if psql -h 127.0.0.1 -U "$pg_user" -d test -tAc 'select 1' >/dev/null 2>&1; then
      export REBOUND_TEST_POSTGRES_URL="postgresql+psycopg://${pg_user}@127.0.0.1:5432/test"
      break
    fi
  done
fi
if [ -z "${REBOUND_TEST_POSTGRES_URL:-}" ]; then
  echo "PostgreSQL is not reachable at 127.0.0.1:5432; its tests will be skipped (CI fails them)." >&2
fi

.venv/bin/ruff check bot storage tests bench
exec .venv/bin/python -m pytest "$@"
