"""Render a deployable copy of the sample application for a running test index, locked.

    render.py --index-state STATE --poetry POETRY --dest DIR [--release N] [--library SPEC]
              [--unhealthy | --healthy-only-beside] [--with PACKAGE ...]

The committed application (shopfront/) names a conventional index URL; a deploy needs a lock
made against the index that is actually running, so this copies the application to DIR, points
its source at the index from STATE (index.py's state.json), applies the variant the options ask
for and writes poetry.lock with POETRY (a controller Poetry, tests/testbed/poetry.sh). Variants:

    --release N       a code-only change: the release the application reports (by default what
                      the application's RELEASE line says, as it was edited)
    --unhealthy       a release whose /health answers 503 (its health check fails)
    --healthy-only-beside
                      a release whose /health answers 200 only where it runs beside the running
                      release, on a candidate's socket (systemd names the socket it passes in
                      LISTEN_FDNAMES), and 503 in the service itself: it passes its check before
                      the switch and fails it once the service restarted on it
    --library SPEC    another constraint on the private library (a lock change), e.g. ^2.0
    --with PACKAGE    more public dependencies (repeatable), e.g. for a large lock
    --python SPEC     another Python constraint, e.g. one the target's Python does not satisfy
    --stale-lock      a dependency added to pyproject.toml after locking: the lock is stale
    --no-lock         no poetry.lock at all

Locks are cached by the rendered pyproject.toml, so variants with the same dependencies share
one lock (and so one virtualenv key when deployed).
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import tomlkit

APP = Path(__file__).resolve().parent / "shopfront"
SOURCE = "lockstep"


def set_constant(path, name, value):
    """Sets the module-level constant NAME (a line `NAME = ...`) to value, whatever it was."""
    text, count = re.subn(r"(?m)^%s = .*$" % name, "%s = %s" % (name, value), path.read_text())
    if count != 1:
        sys.exit("%s: the variants of this script set the constant %s, which must be assigned on exactly "
                 "one line of its own (`%s = ...`); found %d" % (path, name, name, count))
    path.write_text(text)


def edit_pyproject(path, index_url=None, library=None, extra=(), python=None):
    document = tomlkit.parse(path.read_text())
    poetry = document["tool"]["poetry"]
    for source in poetry["source"]:
        if source["name"] == SOURCE and index_url:
            source["url"] = index_url
    dependencies = poetry["dependencies"]
    if python:
        dependencies["python"] = python
    if library:
        dependencies["lockstep-sample-lib"]["version"] = library
    for package in extra:
        dependencies[package] = "*"
    path.write_text(tomlkit.dumps(document))


def lock(dest, poetry, state, cache):
    """Write dest/poetry.lock, from the cache when this pyproject.toml was locked before."""
    key = hashlib.sha256((dest / "pyproject.toml").read_bytes()).hexdigest()
    cached = cache / ("%s.lock" % key)
    if not cached.exists():
        cache.mkdir(parents=True, exist_ok=True)
        env = dict(
            os.environ,
            POETRY_HTTP_BASIC_LOCKSTEP_USERNAME=state["username"],
            POETRY_HTTP_BASIC_LOCKSTEP_PASSWORD=state["password"],
            POETRY_CACHE_DIR=str(cache / "poetry-cache"),
            PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
        )
        env.pop("VIRTUAL_ENV", None)
        subprocess.run([poetry, "lock", "--no-interaction", "--no-ansi"], cwd=dest, env=env,
                       check=True, stdout=subprocess.DEVNULL)
        shutil.copyfile(dest / "poetry.lock", cached)
    shutil.copyfile(cached, dest / "poetry.lock")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-state", type=Path, required=True)
    parser.add_argument("--poetry", required=True, type=os.path.abspath)
    parser.add_argument("--dest", type=Path, required=True)
    parser.add_argument("--release")
    health = parser.add_mutually_exclusive_group()
    health.add_argument("--unhealthy", action="store_true")
    health.add_argument("--healthy-only-beside", action="store_true")
    parser.add_argument("--library")
    parser.add_argument("--with", dest="extra", action="append", default=[])
    parser.add_argument("--python")
    parser.add_argument("--stale-lock", action="store_true")
    parser.add_argument("--no-lock", action="store_true")
    parser.add_argument("--lock-cache", type=Path,
                        help="where locks are kept (default: .locks beside DIR)")
    args = parser.parse_args()

    state = json.loads(args.index_state.read_text())
    dest = args.dest.resolve()
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(APP, dest, ignore=shutil.ignore_patterns("__pycache__", ".venv", "poetry.lock"))
    module = dest / "shopfront" / "__init__.py"
    if args.release:
        set_constant(module, "RELEASE", json.dumps(args.release))
    if args.unhealthy:
        set_constant(module, "HEALTHY", "False")
    if args.healthy_only_beside:
        set_constant(module, "HEALTHY", "'-candidate.socket' in os.environ.get('LISTEN_FDNAMES', '')")
    pyproject = dest / "pyproject.toml"
    edit_pyproject(pyproject, state["simple_url"], args.library, args.extra, args.python)
    if not args.no_lock:
        lock(dest, args.poetry, state, args.lock_cache or dest.parent / ".locks")
    if args.stale_lock:
        edit_pyproject(pyproject, extra=["tabulate"])
    print(dest)


if __name__ == "__main__":
    main()
