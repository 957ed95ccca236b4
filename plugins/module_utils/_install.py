# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make a project's virtualenv match its lock: plan with Poetry's dry run, apply, or skip both.

- parse_operations() / parse_root(): what `poetry sync` (1.8: `install --sync`) reports, dry run
  or real; "Skipped" lines, and the plugins Poetry 2.x installs for the project, are not changes.
- installed_packages(): a virtualenv's installed set, read from its *.dist-info directory names
  (no Python start-up); locked_packages(): name -> version from poetry.lock.
- Selection: which groups and extras, the project itself or not, sync or not.
- Project: a project directory checked for a deploy (pyproject.toml and poetry.lock present).
- Installer: locate the environment (Poetry's own by its rules, _poetry_env), skip Poetry when
  nothing changed since the last sync (a stamp file in the virtualenv records the lock, the
  options and the installed set), plan with a dry run (against an empty throwaway virtualenv
  when the real one does not exist yet, so planning never creates it), apply (downloads before
  removals, so that an unreachable or refusing source leaves the environment as it was), report
  operations and diff.
  Installer.ensure(check_mode=True) is what lockstep.poetry.info uses for in_sync;
  Installer.look(ask_poetry=False) is the install action's no-op check on the host (the helper
  plugin_utils/_helpers/install_noop.py runs this file there, without Ansible's module_utils).

Private to this collection: no compatibility promise.
"""

import glob
import json
import os
import re
import shutil
import tempfile

from ansible_collections.lockstep.poetry.plugins.module_utils._files import replace_file
from ansible_collections.lockstep.poetry.plugins.module_utils._hashing import file_digest
from ansible_collections.lockstep.poetry.plugins.module_utils._names import canonical_name
from ansible_collections.lockstep.poetry.plugins.module_utils._poetry_env import ASK_POETRY, poetry_environment
from ansible_collections.lockstep.poetry.plugins.module_utils._runner import PROJECT_ARGUMENT_SPEC, PoetryError

PYPROJECT = "pyproject.toml"
LOCK_FILE = "poetry.lock"
# Written into the virtualenv after every successful sync; see Installer.stamp().
STAMP_FILE = ".lockstep-poetry-sync.json"
STAMP_FORMAT = 1

ACTIONS = {"Installing": "install", "Updating": "update", "Downgrading": "downgrade", "Removing": "remove"}
# "  - Updating lockstep-sample-lib (1.1.0 -> 2.0.0)"; skipped ones end in
# ": Skipped for the following reason: Already installed" (or "Not required").
_OPERATION_RE = re.compile(
    r"^\s*- (?P<verb>%s) (?P<name>\S+) \((?P<versions>[^)]*)\)(?P<rest>.*)$" % "|".join(ACTIONS), re.MULTILINE
)
# Poetry 2.x first installs the plugins a project requires ([tool.poetry.requires-plugins]) and
# its Poetry lacks into the project's .poetry/plugins, listing their operations before the
# project's own (which start with "Installing dependencies from lock file").
_PROJECT_PLUGINS_RE = re.compile(
    r"^Installing Poetry plugins only for the current project\.\.\.$.*?(?=^Installing dependencies from lock file$|\Z)",
    re.MULTILINE | re.DOTALL,
)
# Printed on every run in package mode, whether or not anything changes.
_ROOT_RE = re.compile(r"^Installing the current project: (?P<name>\S+) \((?P<version>[^)]+)\)", re.MULTILINE)
_LOCKED_RE = re.compile(r'^\[\[package\]\]\s*\nname = "(?P<name>[^"]+)"\s*\nversion = "(?P<version>[^"]+)"', re.MULTILINE)


def _operation(action, name, versions):
    if action in ("update", "downgrade"):
        before, after = [part.strip() for part in versions.split("->", 1)]
        return {"action": action, "name": canonical_name(name), "from": before, "to": after}
    return {"action": action, "name": canonical_name(name), "version": versions.strip()}


def parse_operations(output):
    """Package operations in Poetry's install output, in order, skipped ones and those of
    Poetry's project plugins left out."""
    return [
        _operation(ACTIONS[match.group("verb")], match.group("name"), match.group("versions"))
        for match in _OPERATION_RE.finditer(_PROJECT_PLUGINS_RE.sub("", output or ""))
        if "Skipped" not in match.group("rest")
    ]


def parse_root(output):
    """(name, version) of the project itself when Poetry installs it, else None."""
    match = _ROOT_RE.search(output or "")
    return (canonical_name(match.group("name")), match.group("version")) if match else None


def root_operation(root, installed):
    """The change installing the project itself makes: none unless it is new or its version
    changed (Poetry re-installs it on every run, which changes nothing)."""
    if root is None:
        return None
    name, version = root
    current = installed.get(name)
    if current is None:
        return {"action": "install", "name": name, "version": version}
    if current != version:
        return {"action": "update", "name": name, "from": current, "to": version}
    return None


def apply_operations(installed, operations):
    """The installed set after `operations`: the diff's predicted "after" in check mode."""
    after = dict(installed)
    for operation in operations:
        if operation["action"] == "remove":
            after.pop(operation["name"], None)
        else:
            after[operation["name"]] = operation.get("to", operation.get("version"))
    return dict(sorted(after.items()))


def site_packages(venv):
    return sorted(glob.glob(os.path.join(venv, "lib", "python*", "site-packages")))


def installed_packages(venv):
    """{canonical name: version} of what is installed in `venv`, from the *.dist-info
    directory names that every wheel install (Poetry's, pip's) leaves in site-packages."""
    packages = {}
    for directory in site_packages(venv):
        for entry in os.listdir(directory):
            if entry.endswith(".dist-info") and "-" in entry:
                name, version = entry[: -len(".dist-info")].rsplit("-", 1)
                packages[canonical_name(name)] = version
    return dict(sorted(packages.items()))


def locked_packages(text):
    """{canonical name: version} of every package in poetry.lock's text."""
    return {canonical_name(m.group("name")): m.group("version") for m in _LOCKED_RE.finditer(text or "")}


def file_hash(path):
    """"sha256:<hex>" of a file's bytes, None when it does not exist."""
    digest = file_digest(path)
    return None if digest is None else "sha256:" + digest


def is_virtualenv(path):
    return bool(path) and os.path.isfile(os.path.join(path, "pyvenv.cfg"))


def virtualenv_environment(venv, environ):
    """What makes Poetry (1.8 and 2.x) use `venv`: an active virtualenv, as `activate` sets it
    in `environ` (PoetryRunner.environ())."""
    return {
        "VIRTUAL_ENV": venv,
        "PATH": os.path.join(venv, "bin") + os.pathsep + environ.get("PATH", os.defpath),
    }


# The options of a Selection; documented in doc_fragments/poetry.py (SELECTION).
SELECTION_ARGUMENT_SPEC = dict(
    only=dict(type="list", elements="str"),
    with_groups=dict(type="list", elements="str"),
    without_groups=dict(type="list", elements="str"),
    extras=dict(type="list", elements="str"),
    all_extras=dict(type="bool", default=False),
    root=dict(type="bool", default=True),
    sync=dict(type="bool", default=True),
)
SELECTION_MUTUALLY_EXCLUSIVE = [("extras", "all_extras")]

# The install module's options (documented in modules/install.py); its action checks a task's
# arguments against them before it looks for a no-op on the host.
INSTALL_ARGUMENT_SPEC = dict(
    virtualenv=dict(type="path"),
    python=dict(type="str"),
    compile=dict(type="bool", default=False),
    **PROJECT_ARGUMENT_SPEC,
    **SELECTION_ARGUMENT_SPEC
)
INSTALL_REQUIRED_BY = {"python": "virtualenv"}


class Selection:
    """What to install: groups, extras, the project itself; and whether to remove the rest."""

    def __init__(self, only=None, with_groups=None, without_groups=None, extras=None, all_extras=False,
                 root=True, sync=True):
        self.only = sorted(only or [])
        self.with_groups = sorted(with_groups or [])
        self.without_groups = sorted(without_groups or [])
        self.extras = sorted(extras or [])
        self.all_extras = bool(all_extras)
        self.root = bool(root)
        self.sync = bool(sync)

    @classmethod
    def from_params(cls, params):
        """The selection a module's parameters (SELECTION_ARGUMENT_SPEC) ask for."""
        return cls(**{name: params[name] for name in SELECTION_ARGUMENT_SPEC})

    def as_dict(self):
        return dict(vars(self))

    def install_options(self):
        """Keyword arguments of PoetryRunner.install_args() (sync and compile aside)."""
        options = self.as_dict()
        del options["sync"]
        return options


class Project:
    """A Poetry project directory, as a deploy uses it: pyproject.toml and a lock, never resolved."""

    def __init__(self, path):
        self.path = os.path.abspath(path)
        self.pyproject = os.path.join(self.path, PYPROJECT)
        self.lock = os.path.join(self.path, LOCK_FILE)

    def require_pyproject(self):
        if not os.path.isfile(self.pyproject):
            raise PoetryError("no %s in %s: project_path must be a Poetry project's directory" % (PYPROJECT, self.path))

    def require_lock(self):
        """A deploy installs what the lock lists; without one Poetry would resolve dependencies
        on the spot and each host could end up with different versions."""
        self.require_pyproject()
        if not os.path.isfile(self.lock):
            raise PoetryError(
                "no %s in %s: installing never resolves dependencies; create the lock where the "
                "project is developed (lockstep.poetry.lock or `poetry lock`) and ship it with "
                "the project" % (LOCK_FILE, self.path)
            )

    def lock_hash(self):
        return file_hash(self.lock)


class Installer:
    """Brings one project's environment in line with its lock.

    runner: PoetryRunner; project: Project; selection: Selection; virtualenv: a path to use
    (created with `python` when missing) instead of Poetry's own choice; compile: --compile.
    """

    def __init__(self, runner, project, selection, virtualenv=None, python=None, compile=False):
        self.runner = runner
        self.project = project
        self.selection = selection
        self.virtualenv = os.path.abspath(virtualenv) if virtualenv else None
        self.python = python
        self.compile = compile

    @classmethod
    def from_params(cls, runner, params):
        """The Installer the install module's parameters (INSTALL_ARGUMENT_SPEC) ask for."""
        return cls(runner, Project(params["project_path"]), Selection.from_params(params),
                   virtualenv=params["virtualenv"], python=params["python"], compile=params["compile"])

    # Reading the current state.

    def locate(self, ask_poetry=True):
        """The virtualenv's path, or None when Poetry would create one on the next install.

        With `virtualenv` this costs nothing; otherwise Poetry's rules find its environment
        (_poetry_env), and Poetry is asked only where they need Poetry itself to tell
        (`env info --path` does not create the environment); without ask_poetry, ASK_POETRY
        is returned there instead."""
        if self.virtualenv:
            return self.virtualenv if is_virtualenv(self.virtualenv) else None
        path = poetry_environment(self.runner, self.project.path)
        if path is ASK_POETRY and not ask_poetry:
            return path
        if path is ASK_POETRY:
            rc, out, _err = self.runner.run(["env", "info", "--path"], cwd=self.project.path, check=False)
            path = out.strip() if rc == 0 else None
        return path if path and os.path.isdir(path) else None

    def _env(self):
        return virtualenv_environment(self.virtualenv, self.runner.environ()) if self.virtualenv else None

    def stamp(self, venv, installed):
        """Everything that decides what a sync does, except Poetry's dry run itself."""
        return {
            "format": STAMP_FORMAT,
            "project": self.project.path,
            "pyproject": file_hash(self.project.pyproject),
            "lock": self.project.lock_hash(),
            "selection": self.selection.as_dict(),
            "interpreter": file_hash(os.path.join(venv, "pyvenv.cfg")),
            "installed": installed,
            "poetry": self.runner.fingerprint(),
        }

    def unchanged_since_last_sync(self, venv, installed):
        """True when the stamp of the last successful sync matches the current state: the
        lock, pyproject.toml, options, interpreter, installed set and Poetry are the same."""
        try:
            with open(os.path.join(venv, STAMP_FILE)) as handle:
                return json.load(handle) == self.stamp(venv, installed)
        except (OSError, ValueError):
            return False

    def write_stamp(self, venv):
        if not is_virtualenv(venv):
            return  # Poetry installs into a system environment (virtualenvs.create = false)
        state = self.stamp(venv, installed_packages(venv))
        replace_file(os.path.join(venv, STAMP_FILE), json.dumps(state, indent=1, sort_keys=True))

    # Planning.

    def _install_args(self, sync, dry_run=False):
        return self.runner.install_args(sync=sync, compile=self.compile, dry_run=dry_run,
                                        **self.selection.install_options())

    def _poetry(self, args, env):
        return self.runner.run(args, cwd=self.project.path, env=env)[1]

    def _interpreter(self):
        """The interpreter of a new `virtualenv`: `python` (a path, or a command on PATH),
        else python3 on PATH."""
        python = self.python or "python3"
        path = python if os.sep in python else self.runner.module.get_bin_path(python)
        if not path or not (os.path.isfile(path) and os.access(path, os.X_OK)):
            raise PoetryError("cannot create the virtualenv %s: no Python interpreter %s" % (self.virtualenv, python))
        return path

    def create_virtualenv(self, path):
        """A virtualenv without pip: its packages are exactly the locked ones (Poetry does not
        need pip in it), and creating it needs no ensurepip (python3-venv on Debian)."""
        cmd = [self._interpreter(), "-m", "venv", "--without-pip", path]
        rc, out, err = self.runner.execute(cmd)
        if rc != 0:
            raise PoetryError("cannot create the virtualenv %s: %s" % (path, (err or out).strip()),
                              cmd=cmd, rc=rc, stdout=out, stderr=err)

    def plan(self, venv):
        """Operations a sync would run, from Poetry's dry run; never changes the environment.

        When the virtualenv does not exist yet (venv is None), the dry run goes against an
        empty throwaway one in a scratch directory (`poetry sync --dry-run` would create the
        real one): made the way the real one will be, by us for `virtualenv`, else by Poetry
        itself (POETRY_VIRTUALENVS_PATH pointing into the scratch directory), so that the
        interpreter and the packages a new environment starts with are the same."""
        args = self._install_args(self.selection.sync, dry_run=True)
        if venv is not None:
            output = self._poetry(args, self._env())
            installed = installed_packages(venv)
        else:
            scratch = tempfile.mkdtemp(prefix="lockstep-poetry-plan-")
            try:
                if self.virtualenv:
                    throwaway = os.path.join(scratch, "venv")
                    self.create_virtualenv(throwaway)
                    env = virtualenv_environment(throwaway, self.runner.environ())
                else:
                    env = {"POETRY_VIRTUALENVS_PATH": scratch, "POETRY_VIRTUALENVS_IN_PROJECT": "false"}
                output = self._poetry(args, env)
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
            installed = {}
        operations = parse_operations(output)
        root = root_operation(parse_root(output), installed)
        return operations + ([root] if root else [])

    # Applying.

    def apply(self, venv, operations):
        """Run the sync; returns (virtualenv path, Poetry's output). A virtualenv created by
        this run is removed again when the run fails."""
        created = None
        if venv is None and self.virtualenv:
            self.create_virtualenv(self.virtualenv)
            created = venv = self.virtualenv
        try:
            output = ""
            downloads = any(op["action"] != "remove" for op in operations)
            removals = any(op["action"] == "remove" for op in operations)
            if downloads and removals:
                # Install first: a source that refuses or cannot be reached then fails the run
                # before anything was removed.
                output = self._run_install(sync=False)
            output += self._run_install(sync=self.selection.sync)
            if venv is None:
                created = venv = self.locate()
        except PoetryError:
            if created is None and venv is None:
                created = self.locate()  # the environment Poetry created before failing
            if created is not None and is_virtualenv(created):
                shutil.rmtree(created, ignore_errors=True)
            raise
        return venv, output

    def _run_install(self, sync):
        return self._poetry(self._install_args(sync), self._env())

    # The whole task.

    def look(self, ask_poetry=True):
        """The first step of every run, all a no-op needs: (virtualenv or None, installed
        packages, result). The result is the whole task's when the stamp proves that nothing
        changed since the last sync (in check mode too), else None. Without ask_poetry, where
        Poetry's rules leave the environment to Poetry, the virtualenv is ASK_POETRY and the
        result None: the install action's no-op helper starts no Poetry."""
        self.project.require_lock()
        venv = self.locate(ask_poetry)
        if venv is ASK_POETRY:
            return venv, {}, None
        installed = installed_packages(venv) if venv else {}
        if venv is None or not self.unchanged_since_last_sync(venv, installed):
            return venv, installed, None
        return venv, installed, dict(self._result(venv), diff={"before": installed, "after": installed})

    def _result(self, venv):
        return {"changed": False, "operations": [], "virtualenv": venv or self.virtualenv,
                "lock_hash": self.project.lock_hash()}

    def ensure(self, check_mode=False):
        """Plan, and unless check_mode apply; returns the module result (without `commands`).

        Keys: changed, operations, virtualenv, lock_hash, and diff (before/after maps)."""
        venv, installed, unchanged = self.look()
        if unchanged is not None:
            return unchanged
        result = self._result(venv)
        operations = self.plan(venv)
        if check_mode or not operations:
            if operations == [] and venv is not None and not check_mode:
                self.write_stamp(venv)
            result.update(changed=bool(operations), operations=operations,
                          diff={"before": installed, "after": apply_operations(installed, operations)})
            return result
        venv, output = self.apply(venv, operations)
        after = installed_packages(venv)
        done = parse_operations(output)
        root = root_operation(parse_root(output), installed)
        done += [root] if root else []
        self.write_stamp(venv)
        result.update(changed=bool(done), operations=done, virtualenv=venv,
                      diff={"before": installed, "after": after})
        return result
