#!/usr/bin/python
# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: install
short_description: Make a Poetry project's virtualenv match its lock file
version_added: 0.1.0
description:
  - Installs, updates, downgrades and removes packages in a Poetry project's virtualenv so
    that it holds exactly what C(poetry.lock) lists for the selected groups and extras, with
    C(poetry sync) (Poetry 2.x) or C(poetry install --sync) (Poetry 1.8).
  - Plans with Poetry's dry run and runs Poetry for real only when packages must change.
  - Never resolves dependencies. The project must have a C(poetry.lock) that is fresh for its
    C(pyproject.toml); create and refresh it with M(lockstep.poetry.lock).
  - After each successful sync a stamp file (C(.lockstep-poetry-sync.json)) is written into
    the virtualenv. When the lock, C(pyproject.toml), the options, the interpreter, the
    installed packages (read from the C(*.dist-info) directories) and Poetry itself are the
    same as at the last sync, the task reports no change without starting Poetry at all,
    with O(virtualenv) or without it (see the notes for how Poetry's environment is found).
options:
  virtualenv:
    description:
      - Install into the virtualenv at this path instead of the one Poetry chooses.
      - Created when missing, with O(python) and without pip (its packages are exactly the
        locked ones; add pip to the project's dependencies if it must be there). Creating it
        needs only the standard library's C(venv) module.
      - Without it, the environment Poetry chooses is used; see the notes for how the module
        finds it.
    type: path
  python:
    description:
      - The interpreter for a new O(virtualenv), as a path or a command name on E(PATH), for
        example V(python3.12). Defaults to C(python3) on E(PATH).
      - Used only when the virtualenv is created; an existing virtualenv keeps its
        interpreter (remove it to change interpreters).
    type: str
  compile:
    description:
      - Compile the installed packages' Python files to bytecode (C(--compile)).
      - Applies to the packages installed by the run; it is not by itself a reason to run.
    type: bool
    default: false
extends_documentation_fragment:
  - lockstep.poetry.attributes
  - lockstep.poetry.attributes.idempotent
  - lockstep.poetry.attributes.action_group
  - lockstep.poetry.attributes.action_plugin
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.actiongroups
  - ansible.builtin.action_common_attributes.flow
  - lockstep.poetry.poetry
  - lockstep.poetry.poetry.project
  - lockstep.poetry.poetry.groups
  - lockstep.poetry.poetry.selection
attributes:
  async:
    support: full
    details:
      - An async task runs the module, without the no-op check the action makes first otherwise.
  check_mode:
    support: full
    details:
      - Reports the same operations as a real run. When the virtualenv does not exist yet,
        Poetry's dry run goes against an empty temporary virtualenv in a scratch directory
        outside the project, made the way the real one would be (with O(python) for
        O(virtualenv), else by Poetry itself), so nothing is created.
      - With Poetry 2.x, Poetry's dry run, like every C(poetry install) or C(poetry sync), first
        installs the plugins the project declares and Poetry lacks into the project's
        C(.poetry/plugins), Poetry's own cache of them (see the notes).
  diff_mode:
    support: full
    details:
      - Installed packages (name to version) before and after.
notes:
  - Without O(virtualenv), Poetry chooses the environment exactly as on the command line,
    including an active virtualenv (E(VIRTUAL_ENV)) in the task's environment or O(env).
  - The module finds that environment by Poetry's own rules (Poetry 1.8 and 2.x), without
    starting Poetry. An active virtualenv (E(VIRTUAL_ENV), or a Conda environment other than
    C(base)) unless Poetry's cache records an environment for the project (C(poetry env use));
    else the project's C(.venv) directory unless C(virtualenvs.in-project) is false; else
    C({virtualenvs.path}/NAME-pyX.Y) in Poetry's cache, X.Y being the Python version recorded
    for the project, else that of the interpreter Poetry prefers (C(python) on E(PATH) for
    Poetry 2.x unless C(virtualenvs.use-poetry-python), Poetry's own for 1.8 unless
    C(virtualenvs.prefer-active-python)). The settings are read as Poetry reads them, from the
    E(POETRY_*) environment variables, the project's C(poetry.toml), the user's C(config.toml)
    (under E(POETRY_CONFIG_DIR) or the default configuration directory).
  - Poetry is asked (C(poetry env info --path)) only where those rules need it, with
    C(virtualenvs.create) false, when C(python) is not on E(PATH) for Poetry 2.x, when a
    configuration file cannot be read, or when Poetry's installation does not tell its
    version (for example Debian's C(python3-poetry)).
  - A run with nothing to do costs no module run. The module's action first runs the same
    no-op check (the stamp, the environment found by Poetry's rules) on the host as a small
    program, with the Python Ansible would run the module with there (the configured
    C(ansible_python_interpreter), or the one interpreter discovery found earlier in the play),
    the task's C(environment) and become, and returns the module's own result when it proves
    a no-op. Otherwise the module runs as usual.
  - Re-installing the project itself, which Poetry does on every run in package mode, is not
    a change unless its version changed.
  - A project may declare the Poetry plugins it needs (C([tool.poetry.requires-plugins]), Poetry
    2.x). Poetry installs those it lacks into the project's C(.poetry/plugins) before it
    installs anything; that is not a change of the environment and not among RV(operations).
    Poetry takes them from the project's package sources (with the credentials in O(env)), and
    with them every package of its own environment at its installed version, so those sources
    must serve these too; otherwise the task fails and says so. Plugins installed into Poetry's
    environment (the M(lockstep.poetry.poetry) role's C(poetry_plugins)) need nothing from the
    sources.
  - When packages must be both downloaded and removed, Poetry runs twice (C(poetry install),
    then the sync), so that a package source that refuses the credentials or cannot be
    reached fails the task before anything was removed. A virtualenv created by a failed run
    is removed again.
seealso:
  - module: lockstep.poetry.lock
  - name: Poetry's sync command
    description: What C(poetry sync) does with groups, extras and the project itself.
    link: https://python-poetry.org/docs/cli/#sync
author:
  - lockstep.poetry maintainers (@lockstep)
"""

EXAMPLES = r"""
- name: Deploy the application's production dependencies
  lockstep.poetry.install:
    project_path: /srv/app
    only: [main]
    virtualenv: /srv/app/venv
    python: python3.11
    env:
      POETRY_HTTP_BASIC_PRIVATE_USERNAME: deploy
      POETRY_HTTP_BASIC_PRIVATE_PASSWORD: "{{ vault_private_index_token }}"

- name: The same with the credentials that lockstep.poetry.repositories handed over
  lockstep.poetry.install:
    project_path: /srv/app
    only: [main]
    virtualenv: /srv/app/venv
    env: "{{ poetry_repositories_environment }}"

- name: A development checkout with the docs group and every extra, in Poetry's own virtualenv
  lockstep.poetry.install:
    project_path: ~/src/app
    with_groups: [docs]
    all_extras: true

- name: Install the dependencies only, keeping whatever else is in the environment
  lockstep.poetry.install:
    project_path: /srv/app
    root: false
    sync: false
    executable: /opt/poetry/bin/poetry

- name: Which hosts drifted from the lock?
  lockstep.poetry.install:
    project_path: /srv/app
    only: [main]
    virtualenv: /srv/app/venv
  check_mode: true
  register: drift

- name: Show what would change
  ansible.builtin.debug:
    var: drift.operations
  when: drift is changed
"""

RETURN = r"""
operations:
  description:
    - One entry per package change, in the order Poetry made (or would make) it.
    - The project itself appears only when it was installed for the first time or its version
      changed.
  returned: always
  type: list
  elements: dict
  contains:
    action:
      description: What happened to the package.
      type: str
      sample: update
      choices: [install, update, downgrade, remove]
    name:
      description: The package's normalised name.
      type: str
      sample: lockstep-sample-lib
    version:
      description: The version installed or removed (install and remove).
      type: str
      sample: 8.1.8
    from:
      description: The version before (update and downgrade).
      type: str
      sample: 1.1.0
    to:
      description: The version after (update and downgrade).
      type: str
      sample: 2.0.0
  sample:
    - {action: install, name: click, version: 8.1.8}
    - {action: update, name: lockstep-sample-lib, from: 1.1.0, to: 2.0.0}
    - {action: remove, name: tabulate, version: 0.9.0}
virtualenv:
  description:
    - The virtualenv's path.
    - V(null) in check mode when Poetry would create its own virtualenv (no O(virtualenv) set)
      and has not yet.
  returned: always
  type: str
  sample: /srv/app/venv
lock_hash:
  description: SHA-256 of C(poetry.lock)'s bytes.
  returned: always
  type: str
  sample: sha256:9f2c0e4d1b7a5c3e8f6d2a1b0c9e8d7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d
commands:
  description: The commands run, as argument lists. Empty when nothing had to be checked with Poetry.
  returned: always
  type: list
  elements: list
  sample: [["/usr/local/bin/poetry", "--no-interaction", "--no-ansi", "sync", "--only=main", "--dry-run"]]
"""

from ansible_collections.lockstep.poetry.plugins.module_utils._install import (
    INSTALL_ARGUMENT_SPEC,
    INSTALL_REQUIRED_BY,
    SELECTION_MUTUALLY_EXCLUSIVE,
    Installer,
)
from ansible_collections.lockstep.poetry.plugins.module_utils._poetry_module import PoetryModule, run_task


def main():
    module = PoetryModule(
        argument_spec=INSTALL_ARGUMENT_SPEC,
        mutually_exclusive=SELECTION_MUTUALLY_EXCLUSIVE,
        required_by=INSTALL_REQUIRED_BY,
        supports_check_mode=True,
    )
    run_task(module, lambda runner: Installer.from_params(runner, module.params).ensure(check_mode=module.check_mode))


if __name__ == "__main__":
    main()
