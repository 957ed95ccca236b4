# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action for lockstep.poetry.app_release: the archive from the controller goes to the task's
temporary directory on the host, then it is unpacked, all in one task: by the module, or, with
the python option, by module_utils/_release.py run with that Python as a script, without a
module's wrapper (ansible.builtin.unarchive runs a stat module first, and tar twice)."""

from ansible.errors import AnsibleError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.lockstep.poetry.plugins.module_utils import _release
from ansible_collections.lockstep.poetry.plugins.plugin_utils._helper import HelperError, host_spec, run_helper


class ActionModule(ActionBase):

    # A temporary directory on the host only for what is transferred: the archive (unless it is
    # on the host already) and, unless pipelined, the helper (run_helper).
    TRANSFERS_FILES = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp  # the connection's temporary directory is used instead
        args = self._task.args.copy()
        # Not the module's: the Python that unpacks without the module's wrapper.
        python = args.pop("python", None)
        remote = None
        try:
            if args.get("src") is None:
                raise AnsibleError("src is required")
            if not boolean(args.get("remote_src", False), strict=False):
                source = self._loader.get_real_file(self._find_needle("files", args["src"]), decrypt=True)
                if self._connection._shell.tmpdir is None:
                    self._make_tmp_path()
                remote = self._connection._shell.join_path(self._connection._shell.tmpdir, "release-archive")
                self._transfer_file(source, remote)
                self._fixup_perms2((self._connection._shell.tmpdir, remote))
                args.update(src=remote, remote_src=True)
            if python:
                result.update(self._unpack_with(python, args))
            else:
                result.update(self._execute_module(
                    module_name="lockstep.poetry.app_release", module_args=args, task_vars=task_vars))
        except AnsibleError as error:
            result.update(failed=True, msg=to_text(error.message))
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
            self._loader.cleanup_all_tmp_files()
        if remote and result.get("msg"):
            # The archive as the task named it, not its copy in the temporary directory.
            result["msg"] = result["msg"].replace(remote, self._task.args["src"])
        return result

    def _unpack_with(self, python, args):
        """Runs module_utils/_release.py on the host with python, on args validated here."""
        params = self._validated(args)
        params["_check_mode"] = bool(self._task.check_mode)
        try:
            return run_helper(self, python, _release.__file__, params)
        except HelperError as error:
            raise AnsibleError("Could not unpack %s with python '%s': %s" % (args["src"], python, error.message))

    @staticmethod
    def _validated(args):
        """args checked against the module's argument spec, as the module checks them; paths
        are left to the host to expand."""
        validated = ArgumentSpecValidator(host_spec(_release.ARGUMENT_SPEC)).validate(args)
        if validated.error_messages:
            raise AnsibleError("Invalid arguments: %s" % "; ".join(validated.error_messages))
        return validated.validated_parameters
