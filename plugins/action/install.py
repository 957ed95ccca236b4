# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action for lockstep.poetry.install: a run with nothing to do costs no module run.

The module's own no-op check (Installer.look() in module_utils/_install.py) runs first on the
host, as the helper install_noop (plugin_utils/_helpers/install_noop.py, which the module_utils
it imports travel with: see plugin_utils/_helper.py), with the Python that Ansible runs the
module with on that host, the task's environment, become and connection. When the stamp of the
last sync proves that nothing changed, the helper's answer is the task's result, the very one
the module gives for a no-op (check and diff mode alike). Otherwise the module runs as it
always did: something changed, Poetry's rules leave the environment to Poetry itself, an
argument is wrong (the module says which), the helper did not answer, discovery has not yet
found the host's Python (the module's run does it, and later tasks take the fast path), or the
task is asynchronous.
"""

from ansible import constants as C
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.lockstep.poetry.plugins.module_utils._install import (
    INSTALL_ARGUMENT_SPEC,
    INSTALL_REQUIRED_BY,
    SELECTION_MUTUALLY_EXCLUSIVE,
)
from ansible_collections.lockstep.poetry.plugins.module_utils._secrets import env_secrets
from ansible_collections.lockstep.poetry.plugins.plugin_utils._helper import HelperError, helper_path, host_spec, run_helper

MODULE = "lockstep.poetry.install"
# Values of ansible_python_interpreter (and interpreter_python) that ask for discovery.
DISCOVERY = ("", "auto", "auto_legacy", "auto_silent", "auto_legacy_silent")

display = Display()


class ActionModule(ActionBase):

    # A temporary directory on the host only when the helper or the module must be transferred.
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp  # the connection's temporary directory is used
        wrap_async = self._task.async_val and not self._connection.has_native_async
        try:
            no_op = None if wrap_async else self.no_op(task_vars or {})
            if no_op is None:
                no_op = self._execute_module(module_name=MODULE, task_vars=task_vars, wrap_async=wrap_async)
            result.update(no_op)
        finally:
            if not wrap_async:
                self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

    def no_op(self, task_vars):
        """The module's result when the helper proves a no-op on the host, else None."""
        python = self.interpreter(task_vars)
        params = self.params()
        if python is None or params is None:
            return None
        paths = sorted(name for name, option in INSTALL_ARGUMENT_SPEC.items() if option["type"] == "path")
        try:
            answer = run_helper(self, python, helper_path("install_noop"), {"params": params, "paths": paths})
        except HelperError as error:
            display.vvv("lockstep.poetry.install: no-op check with %s did not answer: %s" % (python, error.message))
            return None
        if not answer.get("no_op"):
            display.vvv("lockstep.poetry.install: no no-op: %s" % answer.get("reason"))
            return None
        result = dict(answer["result"], invocation={"module_args": answer["module_args"]})
        if not self._task.diff:
            result.pop("diff", None)
        # What the module masks: the secrets of its env option (PoetryModule).
        return remove_values(result, env_secrets(params.get("env")))

    def interpreter(self, task_vars):
        """The Python Ansible runs the module with on this host: the configured one
        (ansible_python_interpreter, or the interpreter_python setting), or, where that asks for
        discovery, the one discovery found earlier; None when discovery has not run yet."""
        if self._task.delegate_to:
            task_vars = task_vars.get("ansible_delegated_vars", {}).get(self._task.delegate_to, {})
        python = C.config.get_config_value("INTERPRETER_PYTHON", variables=task_vars)
        python = self._templar.template(python) if python else ""
        if python in DISCOVERY:
            python = task_vars.get("ansible_facts", {}).get("discovered_interpreter_python")
        return python or None

    def params(self):
        """The task's arguments checked as the module checks them (paths are expanded on the
        host), or None when they are wrong: the module run then says how."""
        validated = ArgumentSpecValidator(
            host_spec(INSTALL_ARGUMENT_SPEC), mutually_exclusive=SELECTION_MUTUALLY_EXCLUSIVE,
            required_by=INSTALL_REQUIRED_BY).validate(self._task.args)
        return None if validated.error_messages else validated.validated_parameters
