#!/usr/bin/env bash
# Set up and run Rebound: the bot when .env has Slack tokens, otherwise the offline demo.
set -euo pipefail
cd "$(dirname "$0")"

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e .
# testkit/ (the Slack stand-in, the signed-request simulator, the offline demo) is a top-level
# package of the checkout but not of the wheel (pyproject.toml's packages.find), and the editable
# install maps only the wheel's packages. This .pth file puts the checkout itself on the venv's
# sys.path, so the demo, the tests' app processes and the benches import testkit from any folder.
.venv/bin/python -c 'import pathlib, sys, sysconfig
pathlib.Path(sysconfig.get_path("purelib"), "rebound-checkout.pth").write_text(sys.argv[1] + "\n")' "$PWD"
exec .venv/bin/rebound start
