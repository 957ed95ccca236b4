# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run Poetry for the lockstep.poetry modules.

One place finds the poetry binary, asks its version once, spells commands for that version
(the only code that knows how Poetry 1.8 and 2.x differ) and turns a failed command into
PoetryError, which modules catch once in main(). Private to this collection: no compatibility
promise.
"""

import os
import re

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

# Shared by every module that runs Poetry; documented in doc_fragments/poetry.py.
RUNNER_ARGUMENT_SPEC = dict(
    executable=dict(type="path"),
)

_VERSION_RE = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")


def _flag(name):
    return lambda value: [name] if value else []


def _negated_flag(name):
    return lambda value: [] if value else [name]


def _repeated(name):
    # --opt=VALUE keeps a value that starts with "-" from being read as an option.
    return lambda values: ["%s=%s" % (name, value) for value in values or []]


# How the options of install/sync are spelled (the same in 1.8 and 2.x). Keys are the keyword
# arguments of PoetryRunner.install_args().
INSTALL_OPTIONS = {
    "only": _repeated("--only"),
    "with_groups": _repeated("--with"),
    "without_groups": _repeated("--without"),
    "extras": _repeated("--extras"),
    "all_extras": _flag("--all-extras"),
    "root": _negated_flag("--no-root"),
    "compile": _flag("--compile"),
    "dry_run": _flag("--dry-run"),
}


class PoetryError(Exception):
    """Poetry is missing or unusable, or one of its commands failed.

    msg says what went wrong in words a user can act on; cmd (argv list), rc, stdout and stderr
    are set when a command ran. Never carries a secret: secrets never reach a command line.
    """

    def __init__(self, msg, cmd=None, rc=None, stdout=None, stderr=None):
        super().__init__(msg)
        self.msg = msg
        self.cmd = cmd
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr

    def to_fail_kwargs(self):
        kwargs = {"msg": self.msg}
        for key in ("cmd", "rc", "stdout", "stderr"):
            value = getattr(self, key)
            if value is not None:
                kwargs[key] = value
        return kwargs


def parse_version(text):
    """The version tuple in `poetry --version` output ("Poetry (version 2.5.1)"), or None."""
    match = _VERSION_RE.search(text or "")
    if not match:
        return None
    return tuple(int(part or 0) for part in match.groups())


def format_version(version):
    return ".".join(str(part) for part in version)


def last_line(*texts):
    """The last non-empty line of the first text that has one: Poetry's error is usually there."""
    for text in texts:
        lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
        if lines:
            return lines[-1]
    return ""


class PoetryRunner:
    """Poetry as the modules use it.

    `module` is the AnsibleModule (for run_command and get_bin_path); `executable` the
    user's poetry path, or None to search PATH and ~/.local/bin.
    """

    def __init__(self, module, executable=None):
        self.module = module
        self.executable = self._find(executable)
        self._version = None

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
        """Poetry's version as a tuple, asked once; PoetryError when older than MINIMUM_VERSION."""
        if self._version is None:
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

    def environment(self, env=None):
        """The environment additions for a run: the fixed locale, the null keyring unless the
        task's environment chose a backend, then the caller's `env`."""
        update = dict(LOCALE)
        name, backend = KEYRING_BACKEND
        if name not in os.environ and name not in (env or {}):
            update[name] = backend
        update.update(env or {})
        return update

    def run(self, args, cwd=None, env=None, check=True):
        """Run `poetry ARGS` with the global options; returns (rc, stdout, stderr).

        With check=True a non-zero exit raises PoetryError naming the command and Poetry's
        last line of error output.
        """
        cmd = [self.executable] + GLOBAL_OPTIONS + list(args)
        rc, out, err = self.module.run_command(
            cmd, cwd=cwd, environ_update=self.environment(env), check_rc=False
        )
        if check and rc != 0:
            raise PoetryError(
                "poetry %s failed (rc %d): %s" % (" ".join(args), rc, last_line(err, out)),
                cmd=cmd, rc=rc, stdout=out, stderr=err,
            )
        return rc, out, err

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
        for name, value in options.items():
            args.extend(INSTALL_OPTIONS[name](value))
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
