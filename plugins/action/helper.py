# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action for lockstep.poetry.helper: runs one of the roles' helpers (plugin_utils/_helpers/) on
the host, the way plugin_utils/_helper.py runs them, after checking its arguments against the
helper's own ARGUMENT_SPEC."""

import importlib

from ansible.errors import AnsibleError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

from ansible_collections.lockstep.poetry.plugins.plugin_utils._helper import HelperError, run_helper

# The helpers a task may name (plugin_utils/_helpers/NAME.py).
HELPERS = ("inspect_poetry", "switch_links", "run_command", "end_deploy", "venv_packages", "make_directories",
           "write_file", "remove_paths", "check_url")

ARGUMENT_SPEC = {
    "name": {"type": "str", "required": True, "choices": list(HELPERS)},
    "python": {"type": "str", "required": True},
    "args": {"type": "dict", "default": {}},
}


def load_helper(name):
    """The helper's module, for its ARGUMENT_SPEC and RUNS_IN_CHECK_MODE (its code runs on the
    host, not here)."""
    return importlib.import_module("ansible_collections.lockstep.poetry.plugins.plugin_utils._helpers." + name)


class ActionModule(ActionBase):

    # A temporary directory on the host only when the helper must be transferred (run_helper).
    TRANSFERS_FILES = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp  # the connection's temporary directory is used
        try:
            args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)[1]
            helper = load_helper(args["name"])
            validated = ArgumentSpecValidator(helper.ARGUMENT_SPEC).validate(args["args"])
            if validated.error_messages:
                raise AnsibleError("Invalid args for the helper %s: %s" % (
                    args["name"], "; ".join(validated.error_messages)))
            result.update(changed=False)
            if self._task.check_mode and not helper.RUNS_IN_CHECK_MODE:
                result.update(skipped=True, msg="The helper %s does not run in check mode." % args["name"])
            else:
                params = dict(validated.validated_parameters, _check_mode=bool(self._task.check_mode))
                result.update(run_helper(self, args["python"], helper.__file__, params))
        except HelperError as error:
            result.update(failed=True, msg="The helper %s did not answer with Python '%s': %s" % (
                self._task.args.get("name"), self._task.args.get("python"), to_text(error.message)))
        except AnsibleError as error:
            result.update(failed=True, msg=to_text(error.message))
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result
