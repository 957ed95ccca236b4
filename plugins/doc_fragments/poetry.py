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
  env:
    description:
      - 'Environment variables for every command the module runs, over the task''s environment.
        Meant for credentials, such as E(POETRY_HTTP_BASIC_<SOURCE>_USERNAME) and
        E(POETRY_HTTP_BASIC_<SOURCE>_PASSWORD), and for the fact C(poetry_repositories_environment)
        that the lockstep.poetry.repositories role sets:
        C(env: "{{ poetry_repositories_environment }}").'
      - Unlike the task keyword C(environment), which Ansible puts on the command line of the
        process it starts on the host (C(VAR=value python3 ...)), where every user of the host
        can read it in the process list and C(-vvv) output shows it, this option travels with
        the module's arguments and reaches only the environment of the commands.
      - Values of variables whose names say they hold a secret (a word C(PASSWORD), C(PASSWD),
        C(PASSPHRASE), C(TOKEN), C(SECRET), C(CREDENTIALS), C(API_KEY) or C(PRIVATE_KEY), or a
        name ending in C(PASSWORD), C(TOKEN), C(SECRET) or C(_PWD); for example
        E(POETRY_HTTP_BASIC_<SOURCE>_PASSWORD), E(POETRY_PYPI_TOKEN_<REPOSITORY>),
        E(AWS_SECRET_ACCESS_KEY)), and credentials written into URLs, are masked wherever the
        task's result or the host's system log would show them. The other values are shown.
      - Names are strings without C(=); values are strings, numbers or booleans. Booleans become
        V(true) or V(false), the spelling Poetry reads.
      - The locale stays C(C.UTF-8) whatever this says, so that the module can read Poetry's
        output.
    type: dict
    default: {}
notes:
  - Poetry always runs with C(--no-interaction), C(--no-ansi) and the C(C.UTF-8) locale.
  - The system keyring is disabled for Poetry (E(PYTHON_KEYRING_BACKEND) is set to
    C(keyring.backends.null.Keyring)) unless O(env) or the task's environment sets
    E(PYTHON_KEYRING_BACKEND) itself; on servers a keyring can block Poetry waiting for an
    unlock prompt. Give credentials to Poetry with E(POETRY_HTTP_BASIC_<SOURCE>_USERNAME) and
    E(POETRY_HTTP_BASIC_<SOURCE>_PASSWORD) in O(env), or in Poetry's C(auth.toml)
    (M(lockstep.poetry.credentials)); not with the task's C(environment), which shows them in
    the host's process list.
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

    # Which dependency groups and extras of the lock (module_utils/_install.py
    # SELECTION_ARGUMENT_SPEC without root and sync; export takes only these).
    GROUPS = r"""
options:
  only:
    description:
      - Only these dependency groups (C(--only)). V([main]) selects the production
        dependencies.
    type: list
    elements: str
  with_groups:
    description:
      - These optional dependency groups too (C(--with)).
    type: list
    elements: str
  without_groups:
    description:
      - Leave out these dependency groups (C(--without)).
    type: list
    elements: str
  extras:
    description:
      - These extras of the project (C(--extras)).
      - Mutually exclusive with O(all_extras).
    type: list
    elements: str
  all_extras:
    description:
      - Every extra of the project (C(--all-extras)).
    type: bool
    default: false
"""

    # What else to install from the lock (module_utils/_install.py SELECTION_ARGUMENT_SPEC): the
    # project itself, and whether to remove the rest; with GROUPS, for install and info.
    SELECTION = r"""
options:
  root:
    description:
      - Install the project itself (in package mode) along with its dependencies.
      - V(false) is C(--no-root). A project already installed is left in place.
    type: bool
    default: true
  sync:
    description:
      - Remove packages that the lock does not list for the selected groups and extras
        (including the packages of groups left out with O(without_groups)).
      - V(false) only installs and updates (C(poetry install)). Poetry 1.8's C(install)
        still removes the packages of extras that are not selected; Poetry 2.x's does not.
    type: bool
    default: true
"""
