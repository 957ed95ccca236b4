# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A scripted stand-in for the commands a module runs, for module tests with mocked run_command.

Each expected call is Call(argv, rc, stdout, stderr, effect, env): argv is what must follow
`poetry --no-interaction --no-ansi` (or the whole argv for other commands, with SCRATCH
matching any temporary path); env holds variables the call must get; effect(cmd, cwd, env)
does to the file system what the real command would. Output comes from the captured real
Poetry output where there is one.
"""

import os
import tempfile

from ansible_collections.lockstep.poetry.tests.unit.plugins.module_utils.captured import Captured

GLOBAL_OPTIONS = ["--no-interaction", "--no-ansi"]
SCRATCH = object()


class Call:
    def __init__(self, argv, rc=0, stdout="", stderr="", effect=None, env=None):
        self.argv, self.rc, self.stdout, self.stderr, self.effect, self.env = argv, rc, stdout, stderr, effect, env

    @classmethod
    def captured(cls, argv, version, name, effect=None, env=None):
        """A call answered with real Poetry output from fixtures/poetry-VERSION/NAME.txt."""
        out = Captured(version, name)
        return cls(argv, out.rc, out.stdout, out.stderr, effect, env)


def version(number):
    return Call(["--version"], stdout="Poetry (version %s)\n" % number)


def _matches(expected, actual):
    if len(expected) != len(actual):
        return False
    return all(e is SCRATCH and a.startswith(tempfile.gettempdir()) or e == a for e, a in zip(expected, actual))


class FakeHost:
    """Patches AnsibleModule.run_command and get_bin_path: poetry, python3 and python3.12 are
    found on PATH (stand-in files in `directory`: the module looks at them), `calls` are
    consumed in order."""

    def __init__(self, monkeypatch, directory, calls=()):
        # Stand-in executables on the fake PATH.
        self.bin = {}
        for name in ("poetry", "python3", "python3.12"):
            self.bin[name] = os.path.join(str(directory), name)
            with open(self.bin[name], "w") as handle:
                handle.write("#!/bin/sh\nexit 1\n")
            os.chmod(self.bin[name], 0o755)
        self.poetry = self.bin["poetry"]
        self.calls = list(calls)
        self.seen = []
        monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.run_command", self.run_command)
        monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.get_bin_path", self.get_bin_path)

    def expect(self, *calls):
        self.calls.extend(calls)

    def get_bin_path(self, name, required=False, opt_dirs=None):
        return self.bin.get(name)

    def run_command(self, cmd, cwd=None, environ_update=None, check_rc=False):
        self.seen.append(cmd)
        assert self.calls, "unexpected command %s" % cmd
        call = self.calls.pop(0)
        prefix = [self.poetry] + GLOBAL_OPTIONS
        actual = cmd[len(prefix):] if cmd[: len(prefix)] == prefix else cmd
        assert _matches(call.argv, actual), "expected %s, got %s" % (call.argv, actual)
        for name, value in (call.env or {}).items():
            assert (environ_update or {}).get(name) == value, "%s=%s expected in %s" % (name, value, environ_update)
        if call.effect:
            call.effect(cmd, cwd, environ_update or {})
        return call.rc, call.stdout, call.stderr

    def done(self):
        return not self.calls


def make_virtualenv(path, packages=()):
    """What `python -m venv` leaves that the module looks at, plus installed packages."""
    site = os.path.join(path, "lib", "python3.11", "site-packages")
    os.makedirs(site, exist_ok=True)
    with open(os.path.join(path, "pyvenv.cfg"), "w") as handle:
        handle.write("home = /usr/bin\nversion = 3.11.2\n")
    install(path, packages)


def install(path, packages):
    site = os.path.join(path, "lib", "python3.11", "site-packages")
    for name, version in packages:
        os.makedirs(os.path.join(site, "%s-%s.dist-info" % (name.replace("-", "_"), version)), exist_ok=True)


def uninstall(path, name, version):
    os.rmdir(os.path.join(path, "lib", "python3.11", "site-packages", "%s-%s.dist-info" % (name.replace("-", "_"), version)))


def make_poetry_installation(directory, number):
    """A Poetry installed the way pip leaves it, whose version the module reads without running
    it (its entry point's #! line names its virtualenv's python3.11); returns the entry point."""
    venv = os.path.join(str(directory), "poetry-%s" % number)
    os.makedirs(os.path.join(venv, "lib", "python3.11", "site-packages", "poetry-%s.dist-info" % number))
    os.makedirs(os.path.join(venv, "bin"))
    python = os.path.join(venv, "bin", "python3.11")
    entry_point = os.path.join(venv, "bin", "poetry")
    for path, text in ((python, ""), (entry_point, "#!%s\n" % python)):
        with open(path, "w") as handle:
            handle.write(text)
        os.chmod(path, 0o755)
    return entry_point
