#!/usr/bin/python
# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: lock
short_description: Keep a Poetry project's lock file present and fresh
version_added: 0.1.0
description:
  - Checks the project's C(poetry.lock) against its C(pyproject.toml) with
    C(poetry check --lock), which has no side effects, and runs C(poetry lock) only when the
    lock is missing or stale, keeping the versions already locked where it can.
  - With O(regenerate=true), re-resolves every dependency to the newest versions allowed
    (C(poetry lock --regenerate) with Poetry 2.x, C(poetry lock) with Poetry 1.8).
  - Meant for where the project is developed or built; deploys install the shipped lock with
    M(lockstep.poetry.install), which never resolves.
options:
  regenerate:
    description:
      - Re-resolve the whole lock even when it is fresh.
      - The task reports a change only when the lock file's content changes.
    type: bool
    default: false
extends_documentation_fragment:
  - lockstep.poetry.attributes
  - lockstep.poetry.attributes.idempotent
  - lockstep.poetry.attributes.action_group
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.actiongroups
  - lockstep.poetry.poetry
  - lockstep.poetry.poetry.project
attributes:
  check_mode:
    support: full
    details:
      - A missing or stale lock, or O(regenerate=true), is resolved in a temporary copy of
        C(pyproject.toml), C(poetry.lock) and C(poetry.toml) outside the project, so the
        result and diff are those of a real run and the project is not touched.
      - Projects with path dependencies cannot be resolved outside their directory; there check
        mode reports a change for a missing or stale lock, and for O(regenerate=true), without
        resolving (RV(predicted=false)).
  diff_mode:
    support: full
    details:
      - Locked packages (name to version) before and after.
notes:
  - Resolving contacts the project's package sources; give Poetry their credentials with
    E(POETRY_HTTP_BASIC_<SOURCE>_USERNAME) and E(POETRY_HTTP_BASIC_<SOURCE>_PASSWORD) in
    O(env).
  - Like C(poetry lock), resolving may create the project's virtualenv when there is none,
    because Poetry needs an interpreter that satisfies the project.
  - Changing the project's sources or dependencies in C(pyproject.toml) makes the lock stale.
  - The Poetry plugins a project declares (C([tool.poetry.requires-plugins]), Poetry 2.x) are
    not needed to lock it; C(poetry lock) does not install them (M(lockstep.poetry.install)
    does).
seealso:
  - module: lockstep.poetry.install
  - name: Poetry's lock command
    description: How C(poetry lock) resolves and what C(--regenerate) does.
    link: https://python-poetry.org/docs/cli/#lock
author:
  - lockstep.poetry maintainers (@lockstep)
"""

EXAMPLES = r"""
- name: Make sure the lock matches pyproject.toml before building
  lockstep.poetry.lock:
    project_path: /builds/app
    env:
      POETRY_HTTP_BASIC_PRIVATE_USERNAME: ci
      POETRY_HTTP_BASIC_PRIVATE_PASSWORD: "{{ vault_private_index_token }}"

- name: Upgrade every dependency to the newest allowed versions
  lockstep.poetry.lock:
    project_path: /builds/app
    regenerate: true
  register: relock

- name: Show the upgrades
  ansible.builtin.debug:
    var: relock.diff
  when: relock is changed
"""

RETURN = r"""
status:
  description: The lock before the task.
  returned: always
  type: str
  choices: [missing, stale, fresh]
  sample: stale
lock_hash:
  description:
    - SHA-256 of C(poetry.lock)'s bytes after the task (in check mode, as the file is).
    - V(null) when there is no lock file.
  returned: always
  type: str
  sample: sha256:9f2c0e4d1b7a5c3e8f6d2a1b0c9e8d7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d
predicted:
  description: In check mode, whether the result comes from resolving in a temporary copy.
  returned: in check mode, when the lock would be written
  type: bool
  sample: true
commands:
  description: The commands run, as argument lists.
  returned: always
  type: list
  elements: list
  sample: [["/usr/local/bin/poetry", "--no-interaction", "--no-ansi", "check", "--lock"]]
"""

from ansible_collections.lockstep.poetry.plugins.module_utils._install import Project
from ansible_collections.lockstep.poetry.plugins.module_utils._lock import ensure_lock
from ansible_collections.lockstep.poetry.plugins.module_utils._poetry_module import PoetryModule, run_task
from ansible_collections.lockstep.poetry.plugins.module_utils._runner import PROJECT_ARGUMENT_SPEC


def main():
    module = PoetryModule(
        argument_spec=dict(
            regenerate=dict(type="bool", default=False),
            **PROJECT_ARGUMENT_SPEC
        ),
        supports_check_mode=True,
    )

    def task(runner):
        result = ensure_lock(runner, Project(module.params["project_path"]),
                             regenerate=module.params["regenerate"], check_mode=module.check_mode)
        if result.get("predicted") is False:
            module.warn("the project has path dependencies: check mode cannot resolve its lock outside the project")
        return result

    run_task(module, task)


if __name__ == "__main__":
    main()
