# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Ansible side of the modules that run Poetry: their AnsibleModule, which masks the
secrets of the `env` option, and the body of their main().

Apart from _runner, which runs Poetry with the standard library alone: the install action runs
the install module's no-op check on hosts without Ansible's module_utils (see
plugins/action/install.py). Private to this collection: no compatibility promise.
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lockstep.poetry.plugins.module_utils._runner import PoetryError, PoetryRunner
from ansible_collections.lockstep.poetry.plugins.module_utils._secrets import env_secrets


class PoetryModule(AnsibleModule):
    """The AnsibleModule of a module that runs Poetry.

    The secrets of its `env` option (env_secrets()) join no_log_values as soon as the arguments
    are read: before Ansible checks them (a failed check returns them), writes its "Invoked
    with" line to the host's system log, or returns them as the task's invocation. `env` itself
    is not no_log, so that the other variables stay visible, and with no_log every value of it
    (a "false", a user name) would be masked wherever it appears.
    """

    def _load_params(self):
        super()._load_params()
        self.no_log_values.update(env_secrets(self.params.get("env")))


def run_task(module, task):
    """The body of main() for a module that runs Poetry: build the runner, call
    task(runner) -> result dict, and exit with the result and the commands run, or fail once
    with PoetryError's details. A "diff" key is dropped unless Ansible runs with --diff."""
    runner = None
    try:
        runner = PoetryRunner(module, module.params["executable"], module.params.get("env"))
        result = task(runner)
    except PoetryError as error:
        module.fail_json(commands=runner.commands if runner else [], **error.to_fail_kwargs())
    if not module._diff:
        result.pop("diff", None)
    module.exit_json(commands=runner.commands, **result)
