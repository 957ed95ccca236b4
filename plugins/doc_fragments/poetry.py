# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:
    # Options of every module that runs Poetry (module_utils/_runner.py RUNNER_ARGUMENT_SPEC).
    DOCUMENTATION = r"""
options:
  executable:
    description:
      - Path to the C(poetry) executable.
      - When not set, C(poetry) is searched on E(PATH), then in C(~/.local/bin) (where the
        official installer and C(pipx) put it).
      - Poetry 1.8 or newer is required.
    type: path
notes:
  - Poetry always runs with C(--no-interaction), C(--no-ansi) and the C(C.UTF-8) locale.
  - The system keyring is disabled for Poetry (E(PYTHON_KEYRING_BACKEND) is set to
    C(keyring.backends.null.Keyring)) unless the task's environment sets
    E(PYTHON_KEYRING_BACKEND) itself; on servers a keyring can block Poetry waiting for an
    unlock prompt. Give credentials to Poetry with E(POETRY_HTTP_BASIC_<SOURCE>_USERNAME) and
    E(POETRY_HTTP_BASIC_<SOURCE>_PASSWORD) in the task's C(environment), or in Poetry's
    C(auth.toml).
requirements:
  - Poetry 1.8 or newer on the target host.
"""

    # The project a module works on (modules that take project_path).
    PROJECT = r"""
options:
  project_path:
    description:
      - The directory holding the project's C(pyproject.toml).
    type: path
    required: true
"""

    # What to install from the lock (module_utils/_install.py SELECTION_ARGUMENT_SPEC).
    SELECTION = r"""
options:
  only:
    description:
      - Install only these dependency groups (C(--only)). V([main]) is the production deploy.
    type: list
    elements: str
  with_groups:
    description:
      - Also install these optional dependency groups (C(--with)).
    type: list
    elements: str
  without_groups:
    description:
      - Leave out these dependency groups (C(--without)); with O(sync=true) their packages are
        removed.
    type: list
    elements: str
  extras:
    description:
      - Install these extras of the project (C(--extras)).
      - Mutually exclusive with O(all_extras).
    type: list
    elements: str
  all_extras:
    description:
      - Install every extra of the project (C(--all-extras)).
    type: bool
    default: false
  root:
    description:
      - Install the project itself (in package mode) along with its dependencies.
      - V(false) is C(--no-root). A project already installed is left in place.
    type: bool
    default: true
  sync:
    description:
      - Remove packages that the lock does not list for the selected groups and extras.
      - V(false) only installs and updates (C(poetry install)). Poetry 1.8's C(install)
        still removes the packages of extras that are not selected; Poetry 2.x's does not.
    type: bool
    default: true
"""
