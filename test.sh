#!/usr/bin/env bash
# Set up and run every test: the virtualenv, PostgreSQL (started if it is down), then pytest on
# SQLite and PostgreSQL, then the date-sensitive tests at fixed instants. Extra arguments run
# pytest alone with them, e.g. ./test.sh -k settings
set -euo pipefail
cd "$(dirname "$0")"

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
# testkit/ (the Slack stand-in, the signed-request simulator, the offline demo) is a top-level
# package of the checkout but not of the wheel (pyproject.toml's packages.find), and the editable
# install maps only the wheel's packages. This .pth file puts the checkout itself on the venv's
# sys.path, so the demo, the tests' app processes and the benches import testkit from any folder.
.venv/bin/python -c 'import pathlib, sys, sysconfig
pathlib.Path(sysconfig.get_path("purelib"), "rebound-checkout.pth").write_text(sys.argv[1] + "\n")' "$PWD"

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

.venv/bin/ruff check bot storage testkit tests bench
# The layers' import contracts ([tool.importlinter] in pyproject.toml); a broken one stops here.
.venv/bin/lint-imports
if [ "$#" -gt 0 ]; then
  exec .venv/bin/python -m pytest "$@"
fi
.venv/bin/python -m pytest

# The calendar-dependent tests again, with every clock (the tests' and, through testkit.clock,
# the app's) at instants where date bugs hide: a month's last day at 23:30 UTC, the 2027 DST
# changes of New York and London (half an hour before each), a leap day and New Year's Eve.
# On SQLite: the run above covered PostgreSQL at today's date.
for instant in \
  2027-04-30T23:30:00Z \
  2027-03-14T06:30:00Z \
  2027-03-28T00:30:00Z \
  2027-10-31T00:30:00Z \
  2027-11-07T05:30:00Z \
  2028-02-29T12:00:00Z \
  2027-12-31T23:30:00Z; do
  echo "== date-sensitive tests at ${instant} =="
  .venv/bin/python -m pytest -q -m dates -k "not postgresql" --at "${instant}"
done
