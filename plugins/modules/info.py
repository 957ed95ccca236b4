#!/usr/bin/python
# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: info
short_description: Facts about Poetry and a Poetry project's environment, without changing anything
version_added: 0.1.0
description:
  - Reports the Poetry version and the settings Poetry uses (secrets redacted).
  - With O(project_path), also the project's virtualenv, the hash of its lock, whether the lock is
    fresh, the packages installed, and whether the environment is in sync with the lock for the
    selected groups and extras, with the differences.
  - Runs across a fleet, it shows which hosts drifted from the lock, for example after a package was
    installed or removed by hand.
  - Never changes anything; runs in check mode too, and C(changed) is always V(false).
  - The options that select groups and extras (O(only), O(with_groups), O(without_groups),
    O(extras), O(all_extras), O(root), O(sync)) are those of M(lockstep.poetry.install). They
    say what RV(in_sync) and RV(differences) compare the virtualenv with, as if installing. With
    O(sync=true), packages the lock does not list count as differences.
extends_documentation_fragment:
  - lockstep.poetry.attributes
  - lockstep.poetry.attributes.action_group
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.actiongroups
  - lockstep.poetry.poetry
  - lockstep.poetry.poetry.groups
  - lockstep.poetry.poetry.selection
options:
  project_path:
    description:
      - The directory holding the project's C(pyproject.toml). Without it, only Poetry's version and
        settings are reported.
      - Settings then include the project's C(poetry.toml).
    type: path
  config_dir:
    description:
      - Poetry's configuration directory, whose C(config.toml) and C(auth.toml) Poetry reads.
      - Defaults to E(POETRY_CONFIG_DIR) of O(env) or of the task's environment, else Poetry's
        default for the user the task runs as (see M(lockstep.poetry.config)).
    type: path
  virtualenv:
    description:
      - The virtualenv to look at instead of the one Poetry chooses for the project (as
        O(lockstep.poetry.install#module:virtualenv)).
    type: path
attributes:
  check_mode:
    support: full
    details: The module never changes anything.
  diff_mode:
    support: none
notes:
  - Settings come from C(poetry config --list), so they are what Poetry itself uses, environment
    variables (E(POETRY_VIRTUALENVS_IN_PROJECT) and the like) and defaults included. C(poetry config)
    creates an empty C(config.toml) when there is none; the module runs it against a scratch
    directory that links to the real files, so that nothing is created.
  - Redacted as C(********) are credential settings and any setting whose name ends in password,
    token, secret, api-key or credentials; URLs lose the credentials they embed. Poetry never lists
    C(http-basic.*) and C(pypi-token.*).
  - The virtualenv is found as M(lockstep.poetry.install) finds it (by Poetry's rules, else with
    C(poetry env info --path)); none is created.
  - RV(in_sync) comes from the same plan M(lockstep.poetry.install) makes in check mode. When the
    project has no virtualenv yet, it is planned against an empty throwaway one in a temporary
    directory. Planning may fill Poetry's own cache (package metadata), as any Poetry run does.
seealso:
  - module: lockstep.poetry.install
  - module: lockstep.poetry.lock
  - module: lockstep.poetry.config
author:
  - lockstep.poetry maintainers (@lockstep)
"""

EXAMPLES = r"""
- name: Poetry version and settings
  lockstep.poetry.info:
  register: poetry

- name: Which hosts drifted from the lock (production groups only)
  lockstep.poetry.info:
    project_path: /srv/app
    only: [main]
    # Planning may ask the project's private index; lockstep.poetry.repositories set this fact.
    env: "{{ poetry_repositories_environment }}"
  register: app

- name: Report the drift
  ansible.builtin.debug:
    msg: "{{ app.differences }}"
  when: not app.in_sync

- name: Deploys need a fresh lock
  ansible.builtin.assert:
    that: app.lock_fresh
    fail_msg: "poetry.lock of /srv/app is {{ app.lock_status }}"
"""

RETURN = r"""
poetry_version:
  description: The version of Poetry.
  returned: always
  type: str
  sample: 2.5.1
config_dir:
  description: The configuration directory whose files Poetry read.
  returned: always
  type: str
  sample: /home/app/.config/pypoetry
settings:
  description:
    - Every setting Poetry uses, by name, secrets redacted. A string Poetry resolves (placeholders
      such as C({cache-dir}), an environment variable over the file) has its resolved value.
  returned: always
  type: dict
  sample: {"virtualenvs.in-project": true, "installer.max-workers": 4,
           "cache-dir": "/var/cache/pypoetry", "plugins.codeartifact.token": "********"}
virtualenv:
  description: The project's virtualenv; V(null) when it does not exist yet.
  returned: when O(project_path) is set
  type: str
  sample: /srv/app/.venv
lock_hash:
  description: C(sha256:<hex>) of C(poetry.lock); V(null) when there is no lock.
  returned: when O(project_path) is set
  type: str
  sample: sha256:5f0c0e5b0c9d8f9f1e1e3b0ad4f7b1f0d1b3f1a6b7c8d9e0f1a2b3c4d5e6f7a8
lock_status:
  description: V(fresh), V(stale) (C(pyproject.toml) changed since the lock was made) or V(missing).
  returned: when O(project_path) is set
  type: str
  sample: fresh
lock_fresh:
  description: Whether the lock matches C(pyproject.toml) (C(poetry check --lock)).
  returned: when O(project_path) is set
  type: bool
  sample: true
packages:
  description: The packages installed in the virtualenv, normalized name to version; empty without one.
  returned: when O(project_path) is set
  type: dict
  sample: {"lockstep-sample-lib": "1.1.0", "requests": "2.32.3"}
in_sync:
  description:
    - Whether the virtualenv holds exactly what the lock lists for the selected groups and extras
      (nothing to install, update, downgrade or, with O(sync), remove).
    - V(false) when the lock is missing or stale.
  returned: when O(project_path) is set
  type: bool
  sample: false
differences:
  description:
    - What M(lockstep.poetry.install) would change, one entry per package, with C(action)
      (install, update, downgrade, remove), C(name), and C(version) or C(from) and C(to).
    - V(null) when the lock is missing or stale (Poetry cannot plan against it).
  returned: when O(project_path) is set
  type: list
  elements: dict
  sample: [{"action": "remove", "name": "six", "version": "1.16.0"},
           {"action": "downgrade", "name": "lockstep-sample-lib", "from": "2.0.0", "to": "1.1.0"}]
commands:
  description: The Poetry commands run, as argument lists.
  returned: always
  type: list
  elements: list
  sample: [["/usr/local/bin/poetry", "--no-interaction", "--no-ansi", "--version"]]
"""

from ansible_collections.lockstep.poetry.plugins.module_utils import _install, _lock, _poetry_config
from ansible_collections.lockstep.poetry.plugins.module_utils._poetry_module import PoetryModule, run_task
from ansible_collections.lockstep.poetry.plugins.module_utils._runner import RUNNER_ARGUMENT_SPEC, format_version


def project_facts(runner, project, selection, virtualenv=None):
    """The project's environment and lock, and how far the environment is from the lock."""
    installer = _install.Installer(runner, project, selection, virtualenv=virtualenv)
    status = _lock.lock_status(runner, project)
    facts = {"lock_status": status, "lock_fresh": status == _lock.FRESH, "lock_hash": project.lock_hash(),
             "in_sync": False, "differences": None}
    if status == _lock.FRESH:
        plan = installer.ensure(check_mode=True)
        venv = plan["virtualenv"]
        facts.update(in_sync=not plan["changed"], differences=plan["operations"])
    else:
        venv = installer.locate()
    venv = venv if _install.is_virtualenv(venv) else None
    facts.update(virtualenv=venv, packages=_install.installed_packages(venv) if venv else {})
    return facts


def main():
    argument_spec = dict(
        project_path=dict(type="path"),
        config_dir=dict(type="path"),
        virtualenv=dict(type="path"),
    )
    argument_spec.update(RUNNER_ARGUMENT_SPEC)
    argument_spec.update(_install.SELECTION_ARGUMENT_SPEC)
    module = PoetryModule(
        argument_spec=argument_spec,
        mutually_exclusive=_install.SELECTION_MUTUALLY_EXCLUSIVE,
        supports_check_mode=True,
    )
    params = module.params

    def task(runner):
        config_dir = _poetry_config.config_dir(params["config_dir"], runner.environ())
        project = _install.Project(params["project_path"]) if params["project_path"] else None
        if project:
            project.require_pyproject()
        result = dict(
            changed=False,
            poetry_version=format_version(runner.version),
            config_dir=config_dir,
            settings=_poetry_config.effective_settings(runner, config_dir, project.path if project else None),
        )
        if project:
            result.update(project_facts(runner, project, _install.Selection.from_params(params), params["virtualenv"]))
        return result

    run_task(module, task)


if __name__ == "__main__":
    main()
