#!/usr/bin/python
# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: verify
short_description: Prove that a virtualenv holds exactly what a Poetry lock says
version_added: 0.1.0
description:
  - Compares a deployed virtualenv with the lock of its project, for the selected dependency
    groups and extras, and changes nothing. Reports the distributions that are missing, extra
    or at another version than the lock's, and every installed file whose bytes differ from
    the hash its distribution's C(RECORD) lists (a file edited by hand is found) or that is
    gone.
  - Needs no Poetry and no package index. It reads C(pyproject.toml) and C(poetry.lock), the
    C(*.dist-info) directories of the virtualenv's C(site-packages), and runs the
    virtualenv's own Python once to learn its marker environment (Python version, platform),
    which decides what the lock's markers select. That Python may differ from the one the
    module runs with.
  - The selection follows Poetry's own rules for lock format 2.1 (Poetry 2.x, by the groups and
    markers the lock records for each package) and 2.0 (Poetry 1.8, by resolving again from the
    lock), and was tested against what C(poetry install) of Poetry 1.8.5 and 2.5.1 installs.
options:
  virtualenv:
    description:
      - The virtualenv to check (the directory holding C(pyvenv.cfg) and C(bin/python)).
    type: path
    required: true
  root:
    description:
      - Whether the project itself is expected in the virtualenv (C(poetry install) without
        C(--no-root), in package mode), at the version C(pyproject.toml) gives.
      - V(false) counts an installed project as extra. A project with C(package-mode = false)
        is never expected.
    type: bool
    default: false
  check_files:
    description:
      - Hash every file that the C(RECORD) of an installed distribution lists with a hash and
        compare. Files a C(RECORD) lists without a hash (C(RECORD) itself, some compiled
        files), and files outside the virtualenv, are skipped, as pip skips them.
      - V(false) compares names and versions only.
    type: bool
    default: true
extends_documentation_fragment:
  - lockstep.poetry.attributes
  - ansible.builtin.action_common_attributes
  - lockstep.poetry.poetry.project
  - lockstep.poetry.poetry.groups
attributes:
  check_mode:
    support: full
    details:
      - The module changes nothing; check mode does the same as a normal run.
  diff_mode:
    support: none
  idempotent:
    description: It never changes anything.
    support: full
notes:
  - The project directory needs C(pyproject.toml) and C(poetry.lock); the groups and extras
    must be ones the project has, as Poetry requires.
  - C(pip), C(setuptools) and C(wheel) are never reported as extra unless the lock lists them,
    because C(python -m venv) puts them into virtualenvs and Poetry never removes them.
  - Versions compare as PEP 440 versions (C(1.0) and C(1.0.0) are the same).
  - Hashes are those of the installed files as their installer recorded them, not the lock's
    hashes of the wheels; C(distributions) in the result does not say which wheel was used.
seealso:
  - module: lockstep.poetry.install
  - name: The lockstep.poetry.verify playbook
    description: Runs this module across a fleet deployed with the lockstep.poetry.app role and sums up.
    link: https://github.com/lockstep/poetry/blob/main/playbooks/verify.yml
author:
  - lockstep.poetry maintainers (@lockstep)
"""

EXAMPLES = r"""
- name: Does the application's environment match its lock?
  lockstep.poetry.verify:
    virtualenv: /srv/shop/current/.venv
    project_path: /srv/shop/current
    only: [main]
  register: shop_env

- name: Fail when it does not
  ansible.builtin.assert:
    that: shop_env.matches
    fail_msg: "{{ shop_env.summary }}"

- name: Names and versions only, the project itself included, with every extra
  lockstep.poetry.verify:
    virtualenv: /opt/tool/.venv
    project_path: /opt/tool
    root: true
    all_extras: true
    check_files: false
"""

RETURN = r"""
matches:
  description: Whether the virtualenv holds exactly the selected distributions of the lock at
    their locked versions, with every checked file intact.
  returned: success
  type: bool
  sample: false
lock_sha256:
  description: SHA-256 of C(poetry.lock)'s bytes (hexadecimal), to tell which lock a host was
    checked against.
  returned: success
  type: str
  sample: 0c9e8d7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d9f2c0e4d1b7a5c3e8f6d2a1b
python_version:
  description: The full version of the virtualenv's Python, which the lock's markers were
    evaluated for.
  returned: success
  type: str
  sample: 3.11.2
missing:
  description: Distributions the lock selects that are not installed.
  returned: success
  type: list
  elements: dict
  sample: [{"name": "idna", "version": "3.10"}]
extra:
  description: Installed distributions the lock does not select (except pip, setuptools and
    wheel, see the notes).
  returned: success
  type: list
  elements: dict
  sample: [{"name": "six", "version": "1.17.0"}]
wrong_version:
  description: Distributions installed at another version than the locked one.
  returned: success
  type: list
  elements: dict
  sample: [{"name": "click", "locked": "8.1.8", "installed": "8.1.7"}]
modified_files:
  description: Files of installed distributions whose hash differs from their C(RECORD)
    (C(problem=changed)) or that are gone (C(problem=missing)); the path is as C(RECORD) gives
    it, relative to C(site-packages). Empty when O(check_files=false).
  returned: success
  type: list
  elements: dict
  sample: [{"distribution": "humanize", "path": "humanize/time.py", "problem": "changed"}]
checked:
  description: How many installed distributions were read and how many files hashed.
  returned: success
  type: dict
  sample: {"distributions": 14, "files": 1211}
summary:
  description: One line saying whether the virtualenv matches and, when not, how many
    differences of each kind it has.
  returned: success
  type: str
  sample: "differs from the lock (sha256 0c9e8d7f6a5b): 1 extra, 1 files modified or missing; 14 distributions, 1211 files checked"
"""

import json
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lockstep.poetry.plugins.module_utils._export import GROUP_ARGUMENT_SPEC
from ansible_collections.lockstep.poetry.plugins.module_utils._hashing import file_digest
from ansible_collections.lockstep.poetry.plugins.module_utils._install import (
    LOCK_FILE, PYPROJECT, SELECTION_MUTUALLY_EXCLUSIVE, is_virtualenv,
)
from ansible_collections.lockstep.poetry.plugins.module_utils._lock_selection import LockSelectionError, select
from ansible_collections.lockstep.poetry.plugins.module_utils._markers import PRINT_ENVIRONMENT_CODE
from ansible_collections.lockstep.poetry.plugins.module_utils._runner import PoetryError
from ansible_collections.lockstep.poetry.plugins.module_utils._toml import TomlError, load
from ansible_collections.lockstep.poetry.plugins.module_utils._verify import (
    compare, installed_distributions, modified_files, root_distribution, summary,
)


def interpreter_environment(module, venv):
    """The marker environment of the virtualenv's own Python: one run of it."""
    python = os.path.join(venv, "bin", "python")
    cmd = [python, "-c", PRINT_ENVIRONMENT_CODE]
    if not os.access(python, os.X_OK):
        raise PoetryError("virtualenv %s has no Python interpreter at %s" % (venv, python))
    rc, out, err = module.run_command(cmd, environ_update={"PYTHONNOUSERSITE": "1"})
    try:
        if rc == 0:
            return json.loads(out)
    except ValueError:
        pass
    raise PoetryError("the virtualenv's Python %s did not tell its marker environment" % python,
                      cmd=cmd, rc=rc, stdout=out, stderr=err)


def read_project(project_path):
    """(pyproject data, lock data, lock's sha256) of the project directory."""
    if not os.path.isdir(project_path):
        raise PoetryError("project_path %s does not exist" % project_path)
    for name in (PYPROJECT, LOCK_FILE):
        if not os.path.isfile(os.path.join(project_path, name)):
            raise PoetryError("no %s in %s: project_path must be the directory of the deployed project, "
                              "with its pyproject.toml and poetry.lock" % (name, project_path))
    try:
        return (load(os.path.join(project_path, PYPROJECT)), load(os.path.join(project_path, LOCK_FILE)),
                file_digest(os.path.join(project_path, LOCK_FILE)))
    except TomlError as error:
        raise PoetryError(error.msg)


def verify(module, params):
    venv = os.path.abspath(params["virtualenv"])
    if not os.path.isdir(venv):
        raise PoetryError("virtualenv %s does not exist" % venv)
    if not is_virtualenv(venv):
        raise PoetryError("virtualenv %s is not a virtualenv (no pyvenv.cfg there)" % venv)
    pyproject, lock, lock_sha256 = read_project(os.path.abspath(params["project_path"]))
    environment = interpreter_environment(module, venv)
    try:
        selected = select(pyproject, lock, params, environment)
    except LockSelectionError as error:
        raise PoetryError(str(error))
    expected = {name: distribution["version"] for name, distribution in selected.items()}
    if params["root"]:
        expected.update(root_distribution(pyproject))
    installed = installed_distributions(venv)
    result = dict(compare(expected, installed), lock_sha256=lock_sha256,
                  python_version=environment["python_full_version"])
    files, count = modified_files(venv, installed) if params["check_files"] else ([], 0)
    result.update(modified_files=files, checked={"distributions": len(installed), "files": count})
    result["matches"] = not any(result[key] for key in ("missing", "extra", "wrong_version", "modified_files"))
    result["summary"] = summary(result)
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            virtualenv=dict(type="path", required=True),
            project_path=dict(type="path", required=True),
            root=dict(type="bool", default=False),
            check_files=dict(type="bool", default=True),
            **GROUP_ARGUMENT_SPEC
        ),
        mutually_exclusive=SELECTION_MUTUALLY_EXCLUSIVE,
        supports_check_mode=True,
    )
    try:
        result = verify(module, module.params)
    except PoetryError as error:
        module.fail_json(**error.to_fail_kwargs())
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
