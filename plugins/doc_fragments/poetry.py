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
