# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run Poetry for the lockstep.poetry modules.

One place finds the poetry binary, asks its version once, spells commands for that version
(the only code that knows how Poetry 1.8 and 2.x differ) and turns a failed command into
PoetryError, which modules catch once in main(). The `env` option hands Poetry environment
variables (credentials) inside the module's arguments, never on a command line;
_poetry_module.PoetryModule masks its secrets from the moment the arguments are read.

The standard library alone (the module's side is in _poetry_module): the install action runs
the install module's no-op check with it on hosts, without Ansible's module_utils (see
plugins/action/install.py). Private to this collection: no compatibility promise.
"""

import glob
import os
import re
import shlex

from ansible_collections.lockstep.poetry.plugins.module_utils._secrets import redact_urls, variable_text

# Poetry 1.8 is the oldest release with everything the modules rely on: `check --lock`,
# `install --compile`, `lock --no-update` and the group options (--only/--with/--without).
MINIMUM_VERSION = (1, 8)

# Poetry 2.0 added `poetry sync` (`install --sync` still works but warns) and made `poetry lock`
# keep locked versions by default (`--no-update` is gone; `--regenerate` re-resolves).
SYNC_COMMAND_VERSION = (2, 0)

# Where installers put poetry when it is not on the PATH of a non-login shell: the official
# installer and pipx use ~/.local/bin.
EXTRA_SEARCH_DIRS = ["~/.local/bin"]

# Every run: never prompt, no colour codes in what we parse, a fixed locale so that messages do
# not depend on the target's language settings.
GLOBAL_OPTIONS = ["--no-interaction", "--no-ansi"]
LOCALE = {"LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}

# On headless hosts the system keyring can block Poetry waiting for an unlock prompt; the null
# backend makes Poetry fall back to its config and POETRY_HTTP_BASIC_* variables.
KEYRING_BACKEND = ("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")

# Shared by every module that runs Poetry; documented in doc_fragments/poetry.py (the
# default fragment, and PROJECT for project_path).
RUNNER_ARGUMENT_SPEC = dict(
    executable=dict(type="path"),
    env=dict(type="dict", default={}),
)
PROJECT_ARGUMENT_SPEC = dict(
    project_path=dict(type="path", required=True),
    **RUNNER_ARGUMENT_SPEC
)

_VERSION_RE = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")


def _flag(name):
    return lambda value: [name] if value else []


def _negated_flag(name):
    return lambda value: [] if value else [name]


def _repeated(name):
    # --opt=VALUE keeps a value that starts with "-" from being read as an option.
    return lambda values: ["%s=%s" % (name, value) for value in values or []]


# How the options of install/sync are spelled (the same in 1.8 and 2.x), in the order they
# are given: how to run, then what to install. Keys are the keyword arguments of
# PoetryRunner.install_args().
INSTALL_OPTIONS = {
    "compile": _flag("--compile"),
    "dry_run": _flag("--dry-run"),
    "only": _repeated("--only"),
    "with_groups": _repeated("--with"),
    "without_groups": _repeated("--without"),
    "extras": _repeated("--extras"),
    "all_extras": _flag("--all-extras"),
    "root": _negated_flag("--no-root"),
}


class PoetryError(Exception):
    """Poetry is missing or unusable, or a command failed.

    msg says what went wrong in words a user can act on; cmd (argv list), rc, stdout and stderr
    are set when a command ran. Secrets never reach a command line, and credentials that a user
    wrote into a URL are masked on the way out.
    """

    def __init__(self, msg, cmd=None, rc=None, stdout=None, stderr=None):
        super().__init__(msg)
        self.msg = msg
        self.cmd = cmd
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr

    def to_fail_kwargs(self):
        kwargs = {"msg": redact_urls(self.msg)}
        for key in ("cmd", "rc", "stdout", "stderr"):
            value = getattr(self, key)
            if isinstance(value, str):
                value = redact_urls(value)
            elif isinstance(value, list):
                value = [redact_urls(arg) for arg in value]
            if value is not None:
                kwargs[key] = value
        return kwargs


def environment_option(env):
    """The `env` option as {name: text}; PoetryError naming the first entry that is not an
    environment variable name with a string, number or boolean value (never showing a value)."""
    variables = {}
    for name, value in (env or {}).items():
        if not isinstance(name, str) or not name or "=" in name or "\0" in name:
            raise PoetryError("env: %r is not an environment variable name (a non-empty string without '=')" % (name,))
        if not isinstance(value, (str, int, float)):  # bool is an int
            raise PoetryError("env: the value of %s must be a string, a number or a boolean, not %s"
                              % (name, "null" if value is None else "a %s" % type(value).__name__))
        text = variable_text(value)
        if "\0" in text:
            raise PoetryError("env: the value of %s contains a NUL character" % name)
        variables[name] = text
    return variables


_SOURCE_LINE_RE = re.compile(r"^\s*(name|url)\s*:\s*(\S+)", re.MULTILINE)


def parse_sources(out):
    """{name: url} from `poetry source show` output (blocks of "name : X" / "url : Y" lines)."""
    sources = {}
    name = None
    for key, value in _SOURCE_LINE_RE.findall(out or ""):
        if key == "name":
            name = value
        elif name is not None:
            sources[name] = value
            name = None
    return sources


def parse_version(text):
    """The version tuple in `poetry --version` output ("Poetry (version 2.5.1)"), or None."""
    match = _VERSION_RE.search(text or "")
    if not match:
        return None
    return tuple(int(part or 0) for part in match.groups())


# A wrapper script (the lockstep.poetry.poetry role writes one for a PyPI mirror) ends by handing
# over to Poetry's own entry point.
_EXEC_RE = re.compile(r'^exec (?P<path>.+) "\$@"$', re.M)


def installed_version(executable):
    """Poetry's version read from its virtualenv (the poetry-X.dist-info that pip wrote), without
    starting Poetry, which costs about a second of CPU; None when it cannot be told that way."""
    interpreter = poetry_interpreter(executable)
    if interpreter is None:
        return None
    venv = os.path.dirname(os.path.dirname(interpreter))
    found = glob.glob(os.path.join(venv, "lib", "python*", "site-packages", "poetry-*.dist-info"))
    # Exactly one, or the virtualenv is not what it seems.
    if len(found) != 1:
        return None
    return parse_version(os.path.basename(found[0])[len("poetry-"):-len(".dist-info")])


def poetry_interpreter(executable, wrappers=1):
    """The Python that runs Poetry (the #! line of its entry point), or None when it cannot be
    told without starting Poetry.

    Poetry's entry point starts with the #! line of its virtualenv's Python (so does pipx's, and
    the official installer's, behind their links); a wrapper script that execs one is followed.
    """
    path = os.path.realpath(executable)
    try:
        with open(path, "rb") as handle:
            head = handle.read(4096).decode("utf-8", "replace")
    except OSError:
        return None
    if not head.startswith("#!"):
        return None
    interpreter = head[2:].partition("\n")[0].strip()
    if os.path.basename(interpreter).startswith("python") and os.path.isabs(interpreter):
        return interpreter
    handovers = _EXEC_RE.findall(head)
    if wrappers and handovers:
        try:
            words = shlex.split(handovers[-1])
        except ValueError:
            return None
        if len(words) == 1 and os.path.isabs(words[0]):
            return poetry_interpreter(words[0], wrappers - 1)
    return None


def format_version(version):
    return ".".join(str(part) for part in version)


def last_line(*texts):
    """The last non-empty line of the first text that has one: Poetry's error is usually there.
    (Poetry 2.x frames some messages with "| " in the margin; the frame is dropped.)"""
    for text in texts:
        lines = [line.strip().lstrip("|").strip() for line in (text or "").splitlines()]
        lines = [line for line in lines if line]
        if lines:
            return lines[-1]
    return ""


class PoetryRunner:
    """Poetry as the modules use it.

    `module` is the AnsibleModule (for run_command and get_bin_path); `executable` the
    user's poetry path, or None to search PATH and ~/.local/bin; `env` the module's env option,
    variables every command gets (PoetryError when one is not a name with a scalar value).
    """

    def __init__(self, module, executable=None, env=None):
        self.module = module
        self.env = environment_option(env)
        self.executable = self._find(executable)
        self._version = None
        # Every command run, as argv lists, for the modules' `commands` return value.
        self.commands = []

    def _find(self, executable):
        if executable:
            if not (os.path.isfile(executable) and os.access(executable, os.X_OK)):
                raise PoetryError("executable %s is not an executable file" % executable)
            return executable
        found = self.module.get_bin_path("poetry", opt_dirs=[os.path.expanduser(d) for d in EXTRA_SEARCH_DIRS])
        if not found:
            raise PoetryError(
                "poetry was not found on PATH or in %s; install Poetry %s or newer (the "
                "lockstep.poetry.poetry role does) or set executable"
                % (", ".join(EXTRA_SEARCH_DIRS), format_version(MINIMUM_VERSION))
            )
        return found

    @property
    def version(self):
        """Poetry's version as a tuple, read from its installation or else asked once;
        PoetryError when older than MINIMUM_VERSION."""
        if self._version is None:
            version = installed_version(self.executable)
            if version is None:
                rc, out, err = self.run(["--version"])
                version = parse_version(out)
            if version is None:
                raise PoetryError(
                    "cannot read the version of %s" % self.executable,
                    cmd=[self.executable, "--version"], rc=rc, stdout=out, stderr=err,
                )
            if version[:2] < MINIMUM_VERSION:
                raise PoetryError(
                    "%s is Poetry %s; lockstep.poetry needs Poetry %s or newer"
                    % (self.executable, format_version(version), format_version(MINIMUM_VERSION))
                )
            self._version = version
        return self._version

    def fingerprint(self):
        """What identifies this poetry install without starting it: resolved path, size, mtime.

        Upgrading or reinstalling Poetry rewrites its entry-point script, so a cached version
        is trusted only while this is unchanged.
        """
        path = os.path.realpath(self.executable)
        stat = os.stat(path)
        return [path, stat.st_size, stat.st_mtime_ns]

    def environ(self):
        """The environment Poetry starts from: the module's own (the task's `environment`), with
        the env option over it."""
        environ = dict(os.environ)
        environ.update(self.env)
        return environ

    def environment(self, env=None):
        """The environment additions for a run: the env option; the fixed locale over it (the
        modules parse Poetry's output); the null keyring unless the task's environment or the
        env option chose a backend; then the caller's `env`, the module's own settings for this
        command, which win."""
        update = dict(self.env)
        update.update(LOCALE)
        name, backend = KEYRING_BACKEND
        if name not in os.environ and name not in update and name not in (env or {}):
            update[name] = backend
        update.update(env or {})
        return update

    def execute(self, cmd, cwd=None, env=None):
        """Run any command (argv list) the way Poetry runs, and log it in self.commands."""
        self.commands.append(list(cmd))
        return self.module.run_command(cmd, cwd=cwd, environ_update=self.environment(env), check_rc=False)

    def run(self, args, cwd=None, env=None, check=True):
        """Run `poetry ARGS` with the global options; returns (rc, stdout, stderr).

        With check=True a non-zero exit raises PoetryError whose msg says why, when Poetry's
        output shows a known cause (credentials refused, index unreachable, stale lock,
        unknown group or extra, unsuitable Python), else Poetry's last line of error output.
        """
        cmd = [self.executable] + GLOBAL_OPTIONS + list(args)
        rc, out, err = self.execute(cmd, cwd=cwd, env=env)
        if check and rc != 0:
            raise self._failure(args, cmd, rc, out, err, cwd, env)
        return rc, out, err

    def _failure(self, args, cmd, rc, out, err, cwd, env):
        # Imported here, where a command failed: runs that end well, a module's no-op above all,
        # do without the explanations and their patterns.
        from ansible_collections.lockstep.poetry.plugins.module_utils._poetry_failures import explain_failure, is_unreachable

        sources = None
        if is_unreachable(out + err):
            # Only to name the source behind the host; its output is not otherwise needed.
            sources = parse_sources(self.execute([self.executable] + GLOBAL_OPTIONS + ["source", "show"],
                                                 cwd=cwd, env=env)[1])
        reason = explain_failure(out, err, sources) or last_line(err, out)
        return PoetryError("poetry %s failed: %s" % (" ".join(args), reason), cmd=cmd, rc=rc, stdout=out, stderr=err)

    # Commands whose spelling depends on the Poetry version.

    def install_args(self, sync=True, **options):
        """argv (without `poetry`) to install the lock into the environment.

        `sync` also removes what the lock does not list. Keyword options are the keys of
        INSTALL_OPTIONS.
        """
        if not sync:
            args = ["install"]
        elif self.version >= SYNC_COMMAND_VERSION:
            args = ["sync"]
        else:
            args = ["install", "--sync"]
        unknown = set(options) - set(INSTALL_OPTIONS)
        if unknown:
            raise TypeError("unknown install options: %s" % ", ".join(sorted(unknown)))
        for name, spell in INSTALL_OPTIONS.items():
            if name in options:
                args.extend(spell(options[name]))
        return args

    def lock_args(self, regenerate=False):
        """argv to write the lock: keep locked versions, or re-resolve everything."""
        if self.version >= SYNC_COMMAND_VERSION:
            return ["lock", "--regenerate"] if regenerate else ["lock"]
        return ["lock"] if regenerate else ["lock", "--no-update"]

    @staticmethod
    def check_lock_args():
        """argv that fails (without side effects) when the lock is missing or stale."""
        return ["check", "--lock"]
