# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action for lockstep.poetry.app_inspect: one read-only look at the host (the helper
plugin_utils/_helpers/inspect_app.py, run by plugin_utils/_helper.py), on the controller the
identity of the release that the source holds and, with the role's settings, the plan of the
deploy (plugin_utils/_app_plan.py); what the first step of a deploy needs, in one task. Asked
again with a previous answer and what the run learned since (a git source's commit, the
checksums of an unpacked release), it plans again without looking at the host."""

import os

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

from ansible_collections.lockstep.poetry.plugins.module_utils._hashing import file_digest
from ansible_collections.lockstep.poetry.plugins.module_utils._install import locked_packages
from ansible_collections.lockstep.poetry.plugins.module_utils._markers import ENVIRONMENT_CODE
from ansible_collections.lockstep.poetry.plugins.plugin_utils import _app_plan, _deploy_lock
from ansible_collections.lockstep.poetry.plugins.plugin_utils._app_layout import app_layout
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
    # The role's settings, to plan a deploy: its variables without the poetry_app_ prefix.
    "plan": {"type": "dict", "options": {
        "name": {"type": "str", "required": True},
        "create_user": {"type": "bool", "default": True},
        "service_manager": {"type": "str", "default": "systemd", "choices": ["systemd", "none"]},
        "service_name": {"type": "str"},
        "command": {"type": "raw", "default": ""},
        "listen": {"type": "str", "default": ""},
        "handover": {"type": "str", "default": "restart"},
        # Each service's settings are checked by the planner (_app_plan.SERVICE_KEYS).
        "services": {"type": "dict", "default": {}},
        "env_content": {"type": "str", "default": "", "no_log": True},
        "restart_policy": {"type": "str", "default": "on-failure"},
        "unit_options": {"type": "dict", "default": {}},
        "healthcheck_url": {"type": "str", "default": ""},
        "healthcheck_command": {"type": "raw", "default": []},
        "only": {"type": "list", "elements": "str", "default": ["main"]},
        "with": {"type": "list", "elements": "str", "default": []},
        "without": {"type": "list", "elements": "str", "default": []},
        "extras": {"type": "list", "elements": "str", "default": []},
        "all_extras": {"type": "bool", "default": False},
        "root_install": {"type": "bool", "default": False},
        "keep_releases": {"type": "int", "default": 5},
        "shared_paths": {"type": "list", "elements": "str", "default": []},
        "shared_files": {"type": "list", "elements": "str", "default": []},
        "rollback_to": {"type": "str", "default": ""},
        "pre_switch_commands": {"type": "list", "elements": "raw", "default": []},
        "hooks": {"type": "dict", "default": {}, "options": {
            name: {"type": "list", "elements": "raw", "default": []} for name in _app_plan.HOOKS}},
        "keep_failed_releases": {"type": "bool", "default": False},
        "break_lock": {"type": "bool", "default": False},
        "build_on": {"type": "str", "default": "host"},
        "build_cache": {"type": "str", "default": ""},
        "verify": {"type": "bool", "default": False},
        "compile": {"type": "bool", "default": True},
    }},
    # A previous answer of this action, to plan again without looking at the host or the source,
    # with what the run learned since.
    "inspection": {"type": "dict"},
    "commit": {"type": "str"},
    "checksums": {"type": "dict"},
    # A ready virtualenv (its key) that differs from its lock: planned as one to build again.
    "repair": {"type": "str"},
    # The text of the current release's poetry.lock and of the new release's, to report what the
    # release changes in the locked packages.
    "locks": {"type": "dict", "options": {"before": {"type": "str", "default": ""}, "after": {"type": "str", "required": True}}},
}


# Where a builder keeps the wheelhouses it built, by default (poetry_app_build_cache): in the cache
# of the user the controller connects as, or that runs the controller; the controller keeps those
# fetched from a build host there too.
BUILD_CACHE = "~/.cache/lockstep-poetry/wheelhouses"


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
        check_mode = bool(self._task.check_mode)
        try:
            args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)[1]
            settings = self._settings(args)
            self._check_builder(settings, task_vars)
            if args["inspection"]:
                host, release = self._learned(args)
                result["lock"] = args["inspection"].get("lock")
            else:
                host = self._inspect(args, settings, check_mode, task_vars, result)
                # A rollback takes a release the host keeps: the source is not read.
                rollback = settings and settings["rollback_to"]
                release = None if rollback else self._release(args["source"] or {}, args["excludes"])
            result.update(changed=False, check_mode=check_mode, diff_mode=bool(self._task.diff), host=host,
                          release=release)
            if settings:
                result["plan"] = _app_plan.plan(settings, host, release, check_mode, settings["env_content"],
                                                bool(self._task.diff))
                if args["locks"] and result["plan"]["deployment"]:
                    self._compare_locks(result, args["locks"])
        except _app_plan.PlanError as error:
            result.update(failed=True, msg=str(error))
        except AnsibleError as error:
            result.update(failed=True, msg=to_text(error.message))
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

    @staticmethod
    def _compare_locks(result, locks):
        """What the release changes in the locked packages, in the report and as a diff (one line
        per package, name==version): changed when it changes any."""
        before, after = locked_packages(locks["before"]), locked_packages(locks["after"])
        changes = _app_plan.package_changes(before, after)
        result["plan"]["deployment"]["packages"] = changes
        deployment = result["plan"]["deployment"]
        result["changed"] = any(changes.values())
        result["diff"] = {
            "before_header": "poetry.lock of %s" % ("release " + deployment["previous_release_id"]
                                                    if deployment["previous_release_id"] else "no release"),
            "after_header": "poetry.lock of release %s" % deployment["release_id"],
            "before": "".join("%s==%s\n" % package for package in sorted(before.items())),
            "after": "".join("%s==%s\n" % package for package in sorted(after.items())),
        }

    def _settings(self, args):
        """The role's settings with the options they share with the inspection, checked; None
        when no plan is asked for."""
        if not args["plan"]:
            if args["inspection"] or args["commit"] or args["checksums"] or args["locks"] or args["repair"]:
                raise AnsibleError("inspection, commit, checksums, locks and repair plan again: they need plan.")
            return None
        settings = dict(args["plan"], root=args["root"], user=args["user"], group=args["group"],
                        source_type=None if args["plan"]["rollback_to"] else (args["source"] or {}).get("type"))
        settings["service_name"] = settings["service_name"] or settings["name"]
        # The project on the controller, which build once builds from (a copy source's).
        source = args["source"] or {}
        settings["source_path"] = self._loader.path_dwim(source["path"]) if source.get("type") == "copy" else None
        settings["controller_cache"] = os.path.expanduser(BUILD_CACHE)
        settings["build_cache"] = settings["build_cache"] or BUILD_CACHE
        if settings["build_on"] == "controller":
            # The controller's own paths: the tasks that ship from there do not expand a '~'.
            settings["build_cache"] = os.path.expanduser(settings["build_cache"])
        _app_plan.check_input(settings)
        return settings

    @staticmethod
    def _check_builder(settings, task_vars):
        """poetry_app_build_on: host, controller, or a host of the inventory."""
        builder = settings["build_on"] if settings else "host"
        if builder not in ("host", "controller") and builder not in task_vars.get("groups", {}).get("all", []):
            raise AnsibleError("poetry_app_build_on '%s' is not host, controller or a host of the inventory." % builder)

    @staticmethod
    def _learned(args):
        """The host and release of a previous answer, with what the run learned since: the
        commit a git source fetched, the checksums of a release once unpacked, a virtualenv that
        differs from its lock (poetry_app_verify)."""
        host, release = args["inspection"]["host"], args["inspection"].get("release")
        if args["commit"]:
            release = _app_plan.git_release(args["commit"], host["scratch"])
        if args["checksums"]:
            if release is None:
                raise AnsibleError("checksums belong to a release: give commit first for a git source.")
            release = dict(release, checksums=args["checksums"])
        if args["repair"]:
            host = _app_plan.with_venv_to_repair(host, args["repair"])
        return host, release

    @staticmethod
    def _layout(args, settings):
        """The layout the inspection looks at, with the paths the task overrides."""
        if settings:
            return _app_plan.layout_of(settings)
        layout = app_layout(args["root"], args["service"])
        for name in ("env_file", "unit_file", "restart_marker"):
            if args[name] is not None:
                layout[name] = args[name]
        return layout

    def _inspect(self, args, settings, check_mode, task_vars, result):
        """Runs the helper inspect_app on the host with args["python"]; returns what it found. A
        deploy (a plan, not in check mode) takes the deploy lock with it (result["lock"]), or
        takes over one that a run of this controller left when it was killed, or fails saying
        which run holds it."""
        layout = self._layout(args, settings)
        unit_files = _app_plan.units_to_inspect(settings, layout) if settings else []
        if settings:
            # The planner reads the units from unit_files.
            layout = dict(layout, unit_file="")
        wanted = {
            "layout": layout,
            "unit_files": unit_files,
            "shared_files": _app_plan.shared_files(settings, layout) if settings else [],
            "live_links": _app_plan.live_links_to_inspect(settings) if settings else [],
            # Looked up in the ready virtualenvs: a release that reuses one is checked in the plan.
            "programs": _app_plan.programs(settings) if settings else [],
            "directories": _app_plan.directories(settings, layout) if settings
            else args["directories"] or [layout["root"], layout["releases"], layout["venvs"]],
            "user": args["user"],
            "group": args["group"],
            "service": _app_plan.unit_name(settings) if settings else args["service"],
            "scratch_prefix": None,
            # What the host's Python is, for build once (plugin_utils/_build_once.py).
            "marker_code": ENVIRONMENT_CODE,
        }
        if settings and _app_plan.needs_scratch(settings, check_mode):
            wanted["scratch_prefix"] = settings["name"] + "-deploy."
        if settings and not check_mode:
            wanted["lock"] = {"path": layout["deploy_lock"], "holder": _deploy_lock.new_holder(), "replace": None}
        hostname = task_vars.get("inventory_hostname", "the host")
        found = self._run_inspection(args, wanted, hostname)
        lock = found.pop("lock", None)
        if lock and not lock["acquired"] and (_deploy_lock.ended(lock["holder"]) or settings["break_lock"]):
            # Killed before it released the lock (or so the user says): taken over, and the host
            # looked at again.
            wanted["lock"].update(replace=lock["holder"].get("token"), force=settings["break_lock"])
            found = self._run_inspection(args, wanted, hostname)
            lock = found.pop("lock", None)
            if lock["acquired"]:
                self._display.warning("%s: took over the deploy lock of a run that ended without releasing it (%s)."
                                      % (hostname, _deploy_lock.describe(lock["replaced"])))
        result["lock"] = found["lock"] = lock
        if lock and not lock["acquired"]:
            raise AnsibleError(_deploy_lock.held_message(settings["name"], hostname, lock))
        if args["require_user"] and not found["app_user_exists"]:
            raise AnsibleError("poetry_app_user '%s' does not exist on %s: create it or set "
                               "poetry_app_create_user to true." % (args["user"], hostname))
        return found

    def _run_inspection(self, args, wanted, hostname):
        try:
            return run_helper(self, args["python"], helper_path("inspect_app"), wanted)
        except HelperError as error:
            raise AnsibleError("Could not inspect %s with poetry_app_python '%s': %s" % (
                hostname, args["python"], error.message))

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
