#!/usr/bin/python
# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: helper
short_description: Run one of the collection's host helpers (used by its roles)
version_added: 0.1.0
description:
  - Runs one of the small helper programs the roles of this collection run on hosts, with a
    given Python, isolated from the environment and from site-packages, without a module's
    wrapper. The helpers need only Python's standard library on the host.
  - Each helper checks O(args) against its own argument specification before it runs.
  - With pipelining (the C(pipelining) setting, or C(ansible_pipelining) on the task) the helper
    goes to Python's standard input and nothing is written on the host; otherwise it is copied
    into the task's temporary directory first. Its arguments travel inside it, as a module's do,
    never on the command line, where the host's process list would show them.
  - Anything else the host prints (a warning from C(sudo), a login banner, a line a shell profile
    echoes) is passed over; a helper that fails is reported with what it said last.
  - This is the roles' internal interface, documented so that their tasks can be read; its
    helpers and their arguments may change in any release. Use the roles instead.
  - This is an action plugin; the module file only holds its documentation.
options:
  name:
    description:
      - The helper. V(inspect_poetry) reads what the M(lockstep.poetry.poetry) role needs to know
        of a host (read-only). V(switch_links) points links at new targets atomically (it predicts
        in check mode). V(run_command) runs one of an application's commands in a release's
        directory, with the service's environment and the release's virtualenv (skipped in check
        mode). V(end_deploy) ends a deploy, whatever happened in it. It removes the scratch space
        that M(lockstep.poetry.app_inspect) made, and releases the deploy lock that it took, if
        the run still holds it (check mode takes no lock). V(venv_packages)
        removes distributions from an application's virtualenv and installs a wheelhouse into
        it, making the virtualenv first and writing the record that marks it ready last when
        asked (skipped in check mode). V(make_directories) makes an application's directories
        and gives them their owner, group and mode (it predicts in check mode). V(write_file)
        writes one file whole, atomically, with its owner, group and mode, when it is not as
        asked (it predicts in check mode); the app role writes the service's environment with it.
        V(remove_paths) removes paths as M(ansible.builtin.file) with O(ansible.builtin.file#module:state=absent)
        removes each, all in one task (it predicts in check mode). V(check_url) asks a URL with GET
        from the host, over TCP or through a Unix socket, following redirects and never through a
        proxy, and fails unless the status is one asked for (skipped in check mode); the app
        role's health check.
    type: str
    required: true
    choices: [inspect_poetry, switch_links, run_command, end_deploy, venv_packages, make_directories, write_file,
              remove_paths, check_url]
  python:
    description: The Python on the host that runs the helper.
    type: str
    required: true
  args:
    description: The helper's arguments.
    type: dict
    default: {}
extends_documentation_fragment:
  - lockstep.poetry.attributes
  - lockstep.poetry.attributes.action_plugin
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  check_mode:
    support: full
    details: >-
      V(inspect_poetry) only reads, V(switch_links), V(make_directories), V(write_file) and
      V(remove_paths) predict, V(run_command), V(venv_packages) and V(check_url) are skipped.
  diff_mode:
    support: none
  idempotent:
    description: >-
      V(switch_links), V(make_directories), V(write_file), V(remove_paths) and V(venv_packages) leave
      alone what is as asked; V(check_url) changes nothing; V(run_command) always reports a change.
    support: partial
seealso:
  - module: lockstep.poetry.app_inspect
author:
  - lockstep.poetry maintainers (@lockstep)
"""

EXAMPLES = r"""
- name: Switch the current release atomically, as the application's user
  lockstep.poetry.helper:
    name: switch_links
    python: /usr/bin/python3
    args:
      links: [[/srv/shopfront/current, releases/3f9c2a71d0be]]
  become: true
  become_user: shopfront
"""

RETURN = r"""
changed:
  description: Whether the helper changed something (in check mode, would change).
  returned: always
  type: bool
links_changed:
  description: V(switch_links) only. The links it changed, or would change in check mode.
  returned: success
  type: list
  elements: str
directories_changed:
  description: V(make_directories) only. The directories it made or changed, or would in check mode.
  returned: always
  type: list
  elements: str
paths_removed:
  description: V(remove_paths) only. The paths it removed, or would remove in check mode.
  returned: always
  type: list
  elements: str
status:
  description: V(check_url) only. The HTTP status of the answer, after any redirect.
  returned: when the URL answered
  type: int
  sample: 200
url:
  description: V(check_url) only. The URL asked last (after a redirect, where it led).
  returned: always
  type: str
rc:
  description: V(run_command) only. The command's exit code.
  returned: when the command ran
  type: int
stdout:
  description: V(run_command) only. What the command printed.
  returned: when the command ran
  type: str
stderr:
  description: V(run_command) only. What the command printed on stderr.
  returned: when the command ran
  type: str
python:
  description: V(inspect_poetry) only. The version (major.minor) of O(python).
  returned: success
  type: str
  sample: "3.11"
"""
