#!/usr/bin/python
# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: config
short_description: Manage one Poetry setting
version_added: 0.1.0
description:
  - Sets or removes one Poetry setting, in Poetry's global C(config.toml) or in a project's
    C(poetry.toml) (what C(poetry config) and C(poetry config --local) write).
  - Reads and writes the file directly instead of running C(poetry config), which rewrites the
    file on every call and never says whether anything changed. The module compares the stored
    value with the wanted one and writes only when they differ, atomically (a temporary file in
    the same directory, renamed over the file), keeping the other settings, comments and layout.
  - Values are stored with the types Poetry gives them (boolean, integer, string, list, table),
    so the file is the same as after the equivalent C(poetry config) call.
  - Poetry does not need to be installed for this module to run.
options:
  name:
    description:
      - The setting, as C(poetry config) names it, for example C(virtualenvs.in-project).
      - 'Settings known to Poetry 1.8 or 2.x: C(cache-dir), C(data-dir) (2.x),
        C(virtualenvs.create), C(virtualenvs.in-project), C(virtualenvs.path),
        C(virtualenvs.prompt), C(virtualenvs.options.always-copy),
        C(virtualenvs.options.system-site-packages), C(virtualenvs.options.no-pip),
        C(virtualenvs.options.no-setuptools) (1.8), C(virtualenvs.prefer-active-python) (1.8),
        C(virtualenvs.use-poetry-python) (2.x), C(experimental.system-git-client) (1.8),
        C(system-git-client) (2.x), C(installer.modern-installation) (1.8),
        C(installer.parallel), C(installer.max-workers), C(installer.no-binary),
        C(installer.only-binary) (2.x), C(installer.re-resolve) (2.x),
        C(installer.builtin-uninstall) (2.x), C(requests.max-retries) (2.x),
        C(solver.lazy-wheel), C(solver.min-release-age) (2.x),
        C(solver.min-release-age-exclude) (2.x), C(solver.min-release-age-exclude-source) (2.x),
        C(warnings.export) (1.8), C(keyring.enabled), C(python.installation-dir) (2.x).'
      - 'Settings with a name of your own in them: C(repositories.<name>.url) (the URL of a
        repository to publish to), C(installer.build-config-settings.<package>) (2.x) and plugin
        settings C(plugins.<plugin>.<key>), for example C(plugins.pypi_mirror.url).'
      - A setting that only one major version of Poetry knows is still written (the other one
        ignores it); the module warns when Poetry 2 removed or renamed it.
      - Any other name fails with the list of valid ones.
      - C(http-basic.*), C(pypi-token.*) and C(certificates.*) are refused. Poetry keeps them in
        C(auth.toml), apart from the settings; manage them with the C(lockstep.poetry.credentials)
        module.
    type: str
    required: true
  value:
    description:
      - The value. Required with O(state=present), ignored with O(state=absent).
      - 'Booleans take V(true) or V(false) (also the strings C(true), C(false), C(yes), C(no),
        C(1), C(0)); integers a number or its string; paths and strings a string.'
      - C(installer.no-binary), C(installer.only-binary) and C(solver.min-release-age-exclude) take
        a list of package names (or Poetry's comma-separated string), C(:all:) or C(:none:);
        V(true) means C(:all:) and V(false) C(:none:), as for C(poetry config). Names are stored
        normalized (lower case, C(-)), sorted; their order does not count as a change.
      - C(installer.build-config-settings.<package>) takes a mapping of config settings to strings
        or lists of strings (or its JSON text).
      - Plugin settings are stored with the type given.
      - A URL must not embed credentials (C(https://user:password@host/)); the module refuses it
        without showing the password. Give credentials with C(lockstep.poetry.credentials).
    type: raw
  state:
    description:
      - V(present) stores O(value); V(absent) removes the setting, so that Poetry uses its default
        (tables left empty are removed too, as C(poetry config --unset) does).
    type: str
    choices: [present, absent]
    default: present
  scope:
    description:
      - V(global) edits C(config.toml) in Poetry's configuration directory (see O(config_dir)), for
        the user the task runs as.
      - V(project) edits C(poetry.toml) in O(project_path) (C(poetry config --local)); it applies
        to that project only and wins over the global file.
    type: str
    choices: [global, project]
    default: global
  project_path:
    description:
      - The directory holding the project's C(pyproject.toml). Required with O(scope=project).
    type: path
  config_dir:
    description:
      - Poetry's configuration directory, for O(scope=global).
      - Defaults to E(POETRY_CONFIG_DIR) of the task's environment, else C($XDG_CONFIG_HOME/pypoetry),
        else C(~/.config/pypoetry) of the user the task runs as (on macOS
        C(~/Library/Application Support/pypoetry)), where Poetry looks too.
    type: path
extends_documentation_fragment:
  - lockstep.poetry.attributes
  - lockstep.poetry.attributes.idempotent
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reports whether the setting would change, and the diff, without writing.
  diff_mode:
    support: full
    details: The setting's stored value before and after, as one line C(name = value).
notes:
  - A new file is created with mode C(0600), owned by the user the task runs as, in a directory
    created with mode C(0700) when missing. An existing file keeps its mode, owner and group.
  - Environment variables win over the files for Poetry (for example E(POETRY_VIRTUALENVS_IN_PROJECT)
    over C(virtualenvs.in-project)); this module manages the files only.
    M(lockstep.poetry.info) shows the settings Poetry actually uses.
  - Settings in C(poetry.toml) apply to one checkout; it is usually not committed to the project's
    repository.
requirements:
  - tomlkit 0.6.0 or newer on the target host (C(python3-tomlkit) on Debian).
seealso:
  - module: lockstep.poetry.info
  - name: Poetry configuration
    description: Every setting and its meaning.
    link: https://python-poetry.org/docs/configuration/
author:
  - lockstep.poetry maintainers (@lockstep)
"""

EXAMPLES = r"""
- name: Keep each application's virtualenv in its checkout
  lockstep.poetry.config:
    name: virtualenvs.in-project
    value: true

- name: Do not let a locked keyring hang Poetry on servers
  lockstep.poetry.config:
    name: keyring.enabled
    value: false
  become: true
  become_user: app

- name: Build every package from source for this project only
  lockstep.poetry.config:
    name: installer.no-binary
    value: [":all:"]
    scope: project
    project_path: /srv/app

- name: Resolve PyPI packages through the company mirror (poetry-plugin-pypi-mirror)
  lockstep.poetry.config:
    name: plugins.pypi_mirror.url
    value: https://pypi-mirror.example.org/simple/

- name: Repository to publish to
  lockstep.poetry.config:
    name: repositories.internal.url
    value: https://pypi.example.org/upload/

- name: Poetry's own default for parallel installs again
  lockstep.poetry.config:
    name: installer.max-workers
    state: absent

- name: Settings of a service account kept out of its home directory
  lockstep.poetry.config:
    name: virtualenvs.path
    value: /var/lib/app/virtualenvs
    config_dir: /etc/app/pypoetry
"""

RETURN = r"""
path:
  description: The file holding the setting (C(config.toml) or C(poetry.toml)).
  returned: always
  type: str
  sample: /home/app/.config/pypoetry/config.toml
name:
  description: The setting.
  returned: always
  type: str
  sample: installer.max-workers
value:
  description: The stored value after the task, as Poetry reads it; V(null) when not set.
  returned: always
  type: raw
  sample: 4
previous:
  description: The stored value before the task; V(null) when it was not set.
  returned: always
  type: raw
  sample: null
"""

import json

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.lockstep.poetry.plugins.module_utils import _poetry_config, _secrets, _toml


def target_file(params):
    """The file the setting lives in for the chosen scope."""
    if params["scope"] == "project":
        _poetry_config.pyproject_file(params["project_path"])
        return _poetry_config.project_config_file(params["project_path"])
    return _poetry_config.config_file(_poetry_config.config_dir(params["config_dir"]))


def diff_line(name, value):
    """One line for the diff; JSON spells strings, numbers, booleans and lists as TOML does."""
    if value is None:
        return ""
    return "%s = %s\n" % (name, json.dumps(value, sort_keys=True))


def ensure_setting(path, setting, state, value, check_mode):
    """Bring one setting in the file at path to the wanted state.

    Returns (changed, before, after) with before/after the stored values (None when unset).
    """
    document = _toml.load_document(path, missing_ok=True)
    before = _toml.unwrap(_toml.get_path(document, setting.keys))
    if state == "absent":
        after = None
        changed = before is not None
        if changed:
            _toml.remove_path(document, setting.keys)
    else:
        after = setting.normalize(value)
        changed = not setting.same(before, after)
        if changed:
            _toml.set_path(document, setting.keys, after)
        else:
            after = before
    if changed and not check_mode:
        _toml.write_atomic(path, _toml.dumps(document))
    return changed, before, after


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            value=dict(type="raw"),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            scope=dict(type="str", default="global", choices=["global", "project"]),
            project_path=dict(type="path"),
            config_dir=dict(type="path"),
        ),
        required_if=[
            ("state", "present", ["value"]),
            ("scope", "project", ["project_path"]),
        ],
        supports_check_mode=True,
    )
    if not _toml.HAS_TOMLKIT:
        module.fail_json(msg=missing_required_lib("tomlkit"), exception=_toml.TOMLKIT_IMPORT_ERROR)
    params = module.params
    # Refused below, but a secret given anyway must not come back in the result.
    module.no_log_values.update(_secrets.url_secrets(params["value"]))
    if _secrets.is_secret(params["name"]) and isinstance(params["value"], str):
        module.no_log_values.add(params["value"])
    try:
        setting = _poetry_config.find_setting(params["name"])
        path = target_file(params)
        changed, before, after = ensure_setting(
            path, setting, params["state"], params["value"], module.check_mode)
    except _toml.TomlError as error:
        module.fail_json(name=params["name"], **error.to_fail_kwargs())
    if setting.note and params["state"] == "present":
        module.warn("%s: %s" % (setting.name, setting.note))
    result = dict(changed=changed, path=path, name=params["name"], value=after, previous=before)
    if module._diff:
        result["diff"] = dict(
            before=diff_line(params["name"], before), after=diff_line(params["name"], after),
            before_header=path, after_header=path)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
