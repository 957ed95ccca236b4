# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keep a project's poetry.lock present and fresh, for lockstep.poetry.lock.

lock_status() tells a missing, stale and fresh lock apart with `poetry check --lock` (no side
effects); ensure_lock() runs `poetry lock` only when needed, or when asked to re-resolve. Check
mode resolves in a scratch copy of the project's metadata so that it can report the locked
versions that would change without touching the project.

Private to this collection: no compatibility promise.
"""

import os
import re
import shutil
import tempfile

from ansible_collections.lockstep.poetry.plugins.module_utils._install import LOCK_FILE, PYPROJECT, locked_packages
from ansible_collections.lockstep.poetry.plugins.module_utils._poetry_failures import is_stale_lock
from ansible_collections.lockstep.poetry.plugins.module_utils._runner import PoetryError

MISSING, STALE, FRESH = "missing", "stale", "fresh"

# Files `poetry lock` reads besides the sources of path dependencies.
_METADATA_FILES = (PYPROJECT, LOCK_FILE, "poetry.toml")
# A dependency given by path (path = "../lib") only resolves from the project's own directory.
_PATH_DEPENDENCY_RE = re.compile(r"^[^#\n]*\bpath\s*=", re.MULTILINE)


def _read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def lock_status(runner, project):
    """MISSING, STALE or FRESH; PoetryError when pyproject.toml itself is broken."""
    project.require_pyproject()
    if not os.path.isfile(project.lock):
        return MISSING
    try:
        runner.run(runner.check_lock_args(), cwd=project.path)
    except PoetryError as error:
        if is_stale_lock(error.stderr) or is_stale_lock(error.stdout):
            return STALE
        raise
    return FRESH


def resolve_in_scratch(runner, project, regenerate):
    """The lock `poetry lock` would write, resolved in a scratch copy of the project's metadata
    (with a throwaway virtualenv inside it); None when the project has path dependencies,
    which only resolve from the project's own directory."""
    if _PATH_DEPENDENCY_RE.search(_read(project.pyproject) or ""):
        return None
    scratch = tempfile.mkdtemp(prefix="lockstep-poetry-lock-")
    try:
        for name in _METADATA_FILES:
            source = os.path.join(project.path, name)
            if os.path.isfile(source):
                shutil.copyfile(source, os.path.join(scratch, name))
        runner.run(runner.lock_args(regenerate=regenerate), cwd=scratch,
                   env={"POETRY_VIRTUALENVS_IN_PROJECT": "true"})
        return _read(os.path.join(scratch, LOCK_FILE))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def ensure_lock(runner, project, regenerate=False, check_mode=False):
    """Lock when the lock is missing or stale, or re-resolve when `regenerate`.

    Returns the module result: changed, status (before the task), lock_hash (of the file as
    it is after the task; in check mode, as it is) and diff (locked versions before/after). In
    check mode `predicted` says whether the answer comes from a real resolution."""
    status = lock_status(runner, project)
    before = _read(project.lock)
    result = {"changed": False, "status": status, "lock_hash": project.lock_hash()}
    if status == FRESH and not regenerate:
        return result
    if check_mode:
        after = resolve_in_scratch(runner, project, regenerate)
        if after is None:
            # Unresolvable here: a missing or stale lock changes for sure; a fresh one might.
            result.update(changed=True, predicted=False)
            return result
        result["predicted"] = True
    else:
        runner.run(runner.lock_args(regenerate=regenerate), cwd=project.path)
        after = _read(project.lock)
        result["lock_hash"] = project.lock_hash()
    result.update(
        changed=after != before,
        diff={"before": locked_packages(before), "after": locked_packages(after)},
    )
    return result
