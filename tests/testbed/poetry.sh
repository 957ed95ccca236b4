#!/usr/bin/env bash
# A Poetry of a given version on the controller, for integration tests and benchmarks:
#   tests/testbed/poetry.sh VERSION DIR [PACKAGE...]  ->  DIR/bin/poetry
# PACKAGEs (plugins) go into Poetry's virtualenv with it. Reused when already there with the
# same packages. (Target hosts get Poetry from the lockstep.poetry.poetry role.)
set -euo pipefail
version=$1 dir=$2
shift 2
# One install at a time into DIR (parallel test jobs use the same Poetry).
mkdir -p "$(dirname "$dir")"
exec 9>"$dir.lock"
flock 9
if [ -x "$dir/bin/poetry" ] && "$dir/bin/poetry" --version 2>/dev/null | grep -q "version $version)" &&
  [ "$(cat "$dir/.packages" 2>/dev/null)" = "$*" ]; then
  exit 0
fi
echo "[testbed] installing Poetry $version${*:+ with $*} into $dir" >&2
rm -rf "$dir"
python3 -m venv "$dir"
"$dir/bin/pip" install -q --disable-pip-version-check "poetry==$version" "$@" 2>&1 | grep -v '^WARNING: Location' >&2 || true
"$dir/bin/poetry" --version >/dev/null
echo "$*" >"$dir/.packages"
