# Sourced by the scripts: make sure the virtual environment exists and holds exactly the locked versions
# (requirements/dev.txt, hash-checked; refreshed when the lock or pyproject.toml changes). Works on a fresh
# machine with only python3 (>= 3.11) on it. GAIA_VENV and GAIA_LOCK point it at another environment and
# lock (scripts/upgrade tests the newest resolution that way without touching .venv).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${GAIA_PYTHON:-python3}"
VENV="${GAIA_VENV:-$ROOT/.venv}"
LOCK="${GAIA_LOCK:-$ROOT/requirements/dev.txt}"
if [ ! -x "$VENV/bin/python" ]; then
  echo "creating $VENV" >&2
  "$PY" -m venv "$VENV"
fi
STAMP="$VENV/.gaia-installed"
WANT="$(cat "$LOCK" pyproject.toml | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$STAMP" 2>/dev/null || true)" != "$WANT" ]; then
  echo "installing the locked dependencies ($(basename "$LOCK")) into $VENV" >&2
  # --no-deps: the lock is the whole set; the project itself is built with the locked setuptools.
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --require-hashes --no-deps -r "$LOCK" >&2
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e . >&2
  "$VENV/bin/python" -m pip check >&2
  echo "$WANT" > "$STAMP"
fi
export PATH="$VENV/bin:$PATH"
