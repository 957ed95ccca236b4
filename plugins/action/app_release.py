# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action for lockstep.poetry.app_release: the archive from the controller goes to the task's
temporary directory on the host, then the module unpacks it, all in one task and one module run
(ansible.builtin.unarchive runs a stat module first, and tar twice)."""

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):

    TRANSFERS_FILES = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp  # the connection's temporary directory is used instead
        args = self._task.args.copy()
        remote = None
        try:
            if args.get("src") is None:
                raise AnsibleError("src is required")
            if not boolean(args.get("remote_src", False), strict=False):
                source = self._loader.get_real_file(self._find_needle("files", args["src"]), decrypt=True)
                remote = self._connection._shell.join_path(self._connection._shell.tmpdir, "release-archive")
                self._transfer_file(source, remote)
                self._fixup_perms2((self._connection._shell.tmpdir, remote))
                args.update(src=remote, remote_src=True)
            result.update(self._execute_module(
                module_name="lockstep.poetry.app_release", module_args=args, task_vars=task_vars))
            if remote and result.get("msg"):
                # The archive as the task named it, not its copy in the temporary directory.
                result["msg"] = result["msg"].replace(remote, self._task.args["src"])
        except AnsibleError as error:
            result.update(failed=True, msg=to_text(error))
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
            self._loader.cleanup_all_tmp_files()
        return result
