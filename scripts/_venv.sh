# Sourced by the scripts: makes .venv and installs the locked dependencies, then the project
# itself (re-installs when the lock file or pyproject.toml changes). `scripts/lock` refreshes it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    echo "==> creating .venv"
    "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed-$(cat requirements/dev.lock pyproject.toml | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
    echo "==> installing the locked dependencies (requirements/dev.lock) into .venv"
    .venv/bin/python -m pip install --quiet --require-hashes -r requirements/dev.lock
    .venv/bin/python -m pip install --quiet --no-deps -e .
    rm -f .venv/.installed-*
    touch "$stamp"
fi
export PATH="$PWD/.venv/bin:$PATH"
