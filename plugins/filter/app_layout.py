# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
name: app_layout
short_description: Where lockstep.poetry.app keeps an application on its host
version_added: 0.1.0
description:
  - The paths of an application that the role P(lockstep.poetry.app#role) deployed under a
    root (its C(poetry_app_root)), as the role itself uses them - for tasks of your own that
    reach the release that runs, or its virtualenv, without spelling the layout again.
options:
  _input:
    description: The application's root (C(poetry_app_root)), an absolute path.
    type: path
    required: true
author:
  - lockstep.poetry maintainers (@lockstep)
"""

EXAMPLES = r"""
- name: Run a management command in the release that runs
  ansible.builtin.command:
    argv: ["{{ layout.current_venv }}/bin/python", manage.py, check]
    chdir: "{{ layout.current }}"
  vars:
    layout: "{{ poetry_app_root | lockstep.poetry.app_layout }}"
  changed_when: false
"""

RETURN = r"""
_value:
  description: The application's paths (more keys than those below may be returned; only these
    are promised).
  type: dict
  contains:
    root:
      description: The root, without a trailing C(/).
      type: str
    current:
      description: The link to the release that runs (C(ROOT/current)).
      type: str
    current_venv:
      description: That release's virtualenv (a link in the release, C(ROOT/current/.venv)).
      type: str
    releases:
      description: The directory of the releases kept, one directory each.
      type: str
    venvs:
      description: The directory of the virtualenvs kept, one by virtualenv key.
      type: str
    shared:
      description: The directory of what outlives releases (C(poetry_app_shared_paths), C(poetry_app_shared_files)).
      type: str
    env_file:
      description: The services' environment file.
      type: str
"""

from ansible.errors import AnsibleFilterError
from ansible.module_utils.six import string_types

from ansible_collections.lockstep.poetry.plugins.plugin_utils._app_layout import app_layout as layout_of


def app_layout(root):
    """The layout of the application rooted at root, as plugin_utils/_app_layout.py defines it."""
    if not isinstance(root, string_types) or not root.startswith("/"):
        raise AnsibleFilterError("app_layout needs the application's root as an absolute path, got %r" % (root,))
    return layout_of(root)


class FilterModule:
    def filters(self):
        return {"app_layout": app_layout}
