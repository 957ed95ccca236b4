# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action for lockstep.poetry.app_inspect: one read-only look at the host (the helper
plugin_utils/_helpers/inspect_app.py, run by plugin_utils/_helper.py) and, on the controller, the identity of
the release that the source holds; what the first steps of a deploy need, in one task."""

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

from ansible_collections.lockstep.poetry.plugins.module_utils._hashing import file_digest
from ansible_collections.lockstep.poetry.plugins.plugin_utils._helper import HelperError, helper_path, run_helper
from ansible_collections.lockstep.poetry.plugins.plugin_utils._pack import PackError, pack_directory

ARGUMENT_SPEC = {
    "python": {"type": "str", "required": True},
    "root": {"type": "str", "required": True},
    "user": {"type": "str", "required": True},
    "group": {"type": "str", "required": True},
    "directories": {"type": "list", "elements": "str"},
    "service": {"type": "str", "default": ""},
    "env_file": {"type": "str"},
    "unit_file": {"type": "str"},
    "restart_marker": {"type": "str"},
    "require_user": {"type": "bool", "default": True},
    # As the role's poetry_app_source.
    "source": {"type": "dict", "options": {
        "type": {"type": "str", "required": True, "choices": ["copy", "archive", "git"]},
        "path": {"type": "path"},
        "repo": {"type": "str"},
        "version": {"type": "str", "default": "HEAD"},
        "excludes": {"type": "list", "elements": "str", "default": []},
        "strip_components": {"type": "int", "default": 0},
    }, "required_if": [["type", "copy", ["path"]], ["type", "archive", ["path"]], ["type", "git", ["repo"]]]},
    "excludes": {"type": "list", "elements": "str", "default": []},
}


def release_of_archive(path, src, strip_components):
    """An archive (at path, named src in the task) names its release by its checksum; its
    pyproject.toml and poetry.lock are only known once it is unpacked."""
    return {
        "id": file_digest(path)[:12],
        "checksums": None,
        "archive": {"src": src, "remote_src": False, "strip_components": strip_components},
    }


def release_of_directory(path, excludes):
    """A directory is packed reproducibly (plugin_utils/_pack.py, which keeps the archive in the
    controller user's cache): the checksum of the content names the release."""
    try:
        packed = pack_directory(path, excludes)
    except PackError as error:
        raise AnsibleError("Could not pack poetry_app_source.path: %s" % error)
    return {
        "id": packed["release_id"],
        "checksums": packed["files"],
        # Its files are under a directory named after the release.
        "archive": {"src": packed["archive"], "remote_src": False, "strip_components": 1},
    }


class ActionModule(ActionBase):

    # A temporary directory on the host only when the helper must be transferred (run_helper).
    TRANSFERS_FILES = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp  # the connection's temporary directory is used
        try:
            args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)[1]
            host = self._inspect(args, task_vars)
            result.update(changed=False, check_mode=bool(self._task.check_mode), host=host,
                          release=self._release(args["source"] or {}, args["excludes"]))
        except AnsibleError as error:
            result.update(failed=True, msg=to_text(error.message))
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

    def _inspect(self, args, task_vars):
        """Runs the helper inspect_app on the host with args["python"]; returns what it found."""
        root = args["root"].rstrip("/") or "/"
        wanted = {
            "root": root,
            "directories": args["directories"] or [root, root + "/releases", root + "/venvs"],
            "user": args["user"],
            "group": args["group"],
            "env_file": args["env_file"] or root + "/app.env",
            "unit_file": args["unit_file"] if args["unit_file"] is not None
            else "/etc/systemd/system/%s.service" % args["service"] if args["service"] else "",
            "restart_marker": args["restart_marker"] or root + "/.restart-needed",
            "service": args["service"],
        }
        hostname = task_vars.get("inventory_hostname", "the host")
        try:
            found = run_helper(self, args["python"], helper_path("inspect_app"), wanted)
        except HelperError as error:
            raise AnsibleError("Could not inspect %s with poetry_app_python '%s': %s" % (
                hostname, args["python"], error.message))
        if args["require_user"] and not found["app_user_exists"]:
            raise AnsibleError("poetry_app_user '%s' does not exist on %s: create it or set "
                               "poetry_app_create_user to true." % (args["user"], hostname))
        return found

    def _release(self, source, excludes):
        """The release a copy or archive source holds; None for git, which names the release on
        the host once fetched."""
        kind = source.get("type")
        if kind == "copy":
            return release_of_directory(self._loader.path_dwim(source["path"]), excludes + source["excludes"])
        if kind == "archive":
            # Looked up as lockstep.poetry.app_release looks it up, which transfers it.
            try:
                path = self._find_needle("files", source["path"])
                return release_of_archive(path, source["path"], source["strip_components"])
            except (AnsibleError, OSError, IOError):
                raise AnsibleError("poetry_app_source.path '%s' is not a file on the controller." % source["path"])
        return None
