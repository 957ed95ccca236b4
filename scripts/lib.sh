# Shared by scripts/test and scripts/demo: the development virtualenv and the collection view.
# shellcheck shell=bash

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${LOCKSTEP_CACHE:-$ROOT/.cache}
VENV=${LOCKSTEP_VENV:-$ROOT/.venv}
# The collection view must lie outside any git checkout: inside one, ansible-test asks git which
# files exist, and git ignores the view. One view per cache directory (or as LOCKSTEP_COLLECTIONS says).
COLLECTIONS=${LOCKSTEP_COLLECTIONS:-${TMPDIR:-/tmp}/lockstep-poetry-$(id -u)-$(printf %s "$CACHE" | sha1sum | cut -c1-10)}
VIEW=$COLLECTIONS/ansible_collections/lockstep/poetry
export ANSIBLE_COLLECTIONS_PATH=$COLLECTIONS
export ANSIBLE_NOCOLOR=1 NO_COLOR=1
export PY_COLORS=${PY_COLORS:-0}

log() { printf '\n==> %s\n' "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

# Python tools live in a local virtualenv pinned by requirements-dev.txt; reinstalled only when
# that file changes.
ensure_venv() {
  command -v python3 >/dev/null || die "python3 is missing: apt-get install python3 python3-venv"
  if [ ! -x "$VENV/bin/python" ]; then
    log "creating $VENV"
    python3 -m venv "$VENV" || die "python3 -m venv failed: apt-get install python3-venv"
  fi
  local stamp="$VENV/.requirements.sha256" want
  # (The last line stands for how it is installed: compiled, see compile_venv.)
  want=$( (cat "$ROOT/requirements-dev.txt" "$ROOT/requirements.txt" "$ROOT/meta/ee-requirements.txt"; echo compiled) |
    sha256sum | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    log "installing development requirements into $VENV"
    pip_install "$VENV" -r "$ROOT/requirements-dev.txt"
    echo "$want" >"$stamp"
  fi
  export PATH="$VENV/bin:$PATH"
  ensure_ansible_test_bootstrap "$VENV/bin/python"
}

# pip_install VENV ARGS...: uv installs the same pinned set as pip in a fraction of the time
# (parallel downloads): about 15 s instead of over 3 minutes on a fresh machine. uv reads no pip
# configuration, so pip's index setting is handed over, and pip does the work where uv cannot be
# installed or fails.
UV_VERSION=0.13.9
pip_install() {
  local venv=$1 uv=$VENV/bin/uv
  shift
  [ -x "$uv" ] || "$VENV/bin/pip" install -q "uv==$UV_VERSION" >/dev/null 2>&1 || uv=
  [ -z "$uv" ] || [ -z "${PIP_INDEX_URL:-}" ] || export UV_DEFAULT_INDEX=${UV_DEFAULT_INDEX:-$PIP_INDEX_URL}
  if [ -z "$uv" ] || ! UV_NATIVE_TLS=1 "$uv" pip install -q --python "$venv/bin/python" "$@"; then
    [ -z "$uv" ] || log "uv pip install $* failed; trying pip"
    "$venv/bin/pip" install -q "$@" || die "pip install $* failed"
  fi
  compile_venv "$venv"
}

# compile_venv VENV: byte-compiles what is installed there. Where PYTHONDONTWRITEBYTECODE is set
# (as on these machines) Python never caches what it compiles, and without this every
# ansible-playbook, and every task's worker, compiled Ansible from source again: about a tenth of
# a second per task that runs (measured: the benchmark's deploy with nothing to do took 3.5 s in
# the role before, 2.1 s after). Files already compiled are skipped.
compile_venv() {
  "$1/bin/python" -c 'import compileall, sys, sysconfig
sys.exit(not compileall.compile_dir(sysconfig.get_path("purelib"), quiet=1, workers=0))' >/dev/null ||
    log "byte-compiling $1 failed (it works, only slower)"
}

# ansible-test bootstraps pip into its per-test virtualenvs with a script it downloads from its
# own file host, which is unreachable here. When the download fails, ansible-test says where a
# copy of the script is expected ("can be manually downloaded and saved to: PATH", the workaround
# it documents); we put our stand-in there. To learn the path without an interface that is
# private to ansible-test, a throwaway collection with one test asks it, with an empty home, so
# that the download always fails at once (under a second).
ensure_ansible_test_bootstrap() {
  local probe path
  probe=$(mktemp -d)
  mkdir -p "$probe/home" "$probe/ansible_collections/lockstep/probe/tests/unit"
  printf 'def test_probe():\n    pass\n' >"$probe/ansible_collections/lockstep/probe/tests/unit/test_probe.py"
  # It fails, as it should: only what it says matters.
  path=$(cd "$probe/ansible_collections/lockstep/probe" &&
    { HOME=$probe/home "${1%/python}/ansible-test" units --venv --python 3.11 2>&1 || true; } |
    sed -n 's/^The bootstrap script can be manually downloaded and saved to: //p')
  rm -rf "$probe"
  [ -n "$path" ] || die "ansible-test did not say where it expects its pip bootstrap script"
  path=$HOME${path#"$probe/home"}
  [ -f "$path" ] || install -D -m 0644 "$ROOT/tests/testbed/get_pip_shim.py" "$path"
}

# ansible-test and Ansible's collection loader want the tree at
# ansible_collections/lockstep/poetry: keep a copy of the working tree (tracked files and new
# ones git does not ignore) there, refreshed on every run.
sync_view() {
  rm -rf "$VIEW"
  mkdir -p "$VIEW"
  # Tracked files deleted in the working tree (not yet staged) are left out.
  (cd "$ROOT" && git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' file; do
      if [ -e "$file" ] || [ -L "$file" ]; then printf '%s\0' "$file"; fi
    done | tar -c --null -T - -f -) | tar -x -C "$VIEW"
}
