# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PoetryRunner: finding poetry, its version, how commands are spelled and how failures read."""

import os

import pytest

from ansible_collections.lockstep.poetry.plugins.module_utils._poetry_module import run_task
from ansible_collections.lockstep.poetry.plugins.module_utils._runner import PoetryError, PoetryRunner
from ansible_collections.lockstep.poetry.plugins.module_utils._secrets import env_secrets
from ansible_collections.lockstep.poetry.tests.unit.plugins.module_utils.captured import Captured


class FakeModule:
    """The two AnsibleModule methods the runner uses; run_command answers from `answers`."""

    def __init__(self, answers=(), bin_path="/usr/bin/poetry", diff=False):
        self.answers = list(answers)
        self.bin_path = bin_path
        self.calls = []
        self.params = {"executable": None}
        self._diff = diff
        self.exit_args = self.fail_args = None

    def get_bin_path(self, name, required=False, opt_dirs=None):
        self.searched = (name, opt_dirs)
        return self.bin_path

    def run_command(self, cmd, cwd=None, environ_update=None, check_rc=False):
        assert check_rc is False
        self.calls.append({"cmd": cmd, "cwd": cwd, "env": environ_update})
        return self.answers.pop(0)

    def exit_json(self, **kwargs):
        self.exit_args = kwargs
        raise SystemExit(0)

    def fail_json(self, **kwargs):
        self.fail_args = kwargs
        raise SystemExit(1)


def version_answer(version):
    return (0, "Poetry (version %s)\n" % version, "")


@pytest.fixture
def executable(tmp_path):
    path = tmp_path / "poetry"
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return str(path)


def test_poetry_is_found_on_path_and_in_local_bin():
    module = FakeModule()
    assert PoetryRunner(module).executable == "/usr/bin/poetry"
    assert module.searched == ("poetry", [os.path.expanduser("~/.local/bin")])


def test_missing_poetry_says_how_to_get_it():
    with pytest.raises(PoetryError) as error:
        PoetryRunner(FakeModule(bin_path=None))
    assert "poetry was not found" in error.value.msg
    assert "Poetry 1.8 or newer" in error.value.msg
    assert "executable" in error.value.msg


def test_given_executable_must_be_executable(tmp_path, executable):
    assert PoetryRunner(FakeModule(), executable).executable == executable
    with pytest.raises(PoetryError, match="is not an executable file"):
        PoetryRunner(FakeModule(), str(tmp_path / "nothing"))


def test_every_run_has_global_options_locale_and_null_keyring(monkeypatch):
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    module = FakeModule([(0, "out", "err")])
    runner = PoetryRunner(module)
    assert runner.run(["check", "--lock"], cwd="/srv/app") == (0, "out", "err")
    assert module.calls == [{
        "cmd": ["/usr/bin/poetry", "--no-interaction", "--no-ansi", "check", "--lock"],
        "cwd": "/srv/app",
        "env": {"LC_ALL": "C.UTF-8", "LANG": "C.UTF-8",
                "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"},
    }]
    assert runner.commands == [module.calls[0]["cmd"]]


def test_keyring_backend_chosen_by_the_task_is_kept(monkeypatch):
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.SecretService.Keyring")
    runner = PoetryRunner(FakeModule())
    assert "PYTHON_KEYRING_BACKEND" not in runner.environment()
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND")
    assert runner.environment({"PYTHON_KEYRING_BACKEND": "x.Keyring"})["PYTHON_KEYRING_BACKEND"] == "x.Keyring"


def test_env_option_reaches_every_command_as_text(monkeypatch):
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    module = FakeModule([(0, "", "")])
    runner = PoetryRunner(module, env={"POETRY_HTTP_BASIC_PRIVATE_USERNAME": "deploy",
                                       "POETRY_HTTP_BASIC_PRIVATE_PASSWORD": "s3cret-pass",
                                       "POETRY_VIRTUALENVS_IN_PROJECT": True, "POETRY_INSTALLER_MAX_WORKERS": 4,
                                       "POETRY_KEYRING_ENABLED": False})
    runner.run(["check", "--lock"])
    assert module.calls[0]["env"] == {
        "POETRY_HTTP_BASIC_PRIVATE_USERNAME": "deploy", "POETRY_HTTP_BASIC_PRIVATE_PASSWORD": "s3cret-pass",
        # Poetry reads "true" and "1" as true: Python's "True" would be false.
        "POETRY_VIRTUALENVS_IN_PROJECT": "true", "POETRY_INSTALLER_MAX_WORKERS": "4", "POETRY_KEYRING_ENABLED": "false",
        "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8", "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    }
    assert "s3cret-pass" not in str(runner.commands), "never on a command line"


def test_env_option_yields_to_the_locale_and_to_the_module_own_settings(monkeypatch):
    monkeypatch.setenv("POETRY_CACHE_DIR", "/from/the/task")
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    runner = PoetryRunner(FakeModule(), env={"LC_ALL": "de_DE.UTF-8", "POETRY_CONFIG_DIR": "/etc/poetry",
                                             "POETRY_CACHE_DIR": "/from/env",
                                             "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"})
    environment = runner.environment({"POETRY_CONFIG_DIR": "/scratch"})
    assert environment["LC_ALL"] == "C.UTF-8"
    assert environment["POETRY_CONFIG_DIR"] == "/scratch"
    assert environment["POETRY_CACHE_DIR"] == "/from/env"
    assert environment["PYTHON_KEYRING_BACKEND"] == "keyring.backends.fail.Keyring"
    assert runner.environ()["POETRY_CACHE_DIR"] == "/from/env"
    assert runner.environ()["POETRY_CONFIG_DIR"] == "/etc/poetry"
    assert PoetryRunner(FakeModule()).environ()["POETRY_CACHE_DIR"] == "/from/the/task"


@pytest.mark.parametrize("env, message", [
    ({"POETRY_HTTP_BASIC_PRIVATE_PASSWORD": ["s3cret-pass"]},
     "env: the value of POETRY_HTTP_BASIC_PRIVATE_PASSWORD must be a string, a number or a boolean, not a list"),
    ({"POETRY_HTTP_BASIC_PRIVATE_USERNAME": {"name": "deploy"}},
     "env: the value of POETRY_HTTP_BASIC_PRIVATE_USERNAME must be a string, a number or a boolean, not a dict"),
    ({"POETRY_CACHE_DIR": None},
     "env: the value of POETRY_CACHE_DIR must be a string, a number or a boolean, not null"),
    ({"POETRY_CACHE_DIR": "/var/cache\0/x"}, "env: the value of POETRY_CACHE_DIR contains a NUL character"),
    ({"A=B": "x"}, "env: 'A=B' is not an environment variable name (a non-empty string without '=')"),
    ({"": "x"}, "env: '' is not an environment variable name (a non-empty string without '=')"),
    ({1: "x"}, "env: 1 is not an environment variable name (a non-empty string without '=')"),
])
def test_env_option_must_map_names_to_scalars(env, message):
    with pytest.raises(PoetryError) as error:
        PoetryRunner(FakeModule(), env=env)
    assert error.value.msg == message


@pytest.mark.parametrize("name", [
    "POETRY_HTTP_BASIC_PRIVATE_PASSWORD", "POETRY_HTTP_BASIC_MY_REPO_PASSWORD", "POETRY_PYPI_TOKEN_PYPI",
    "POETRY_PYPI_TOKEN_INTERNAL", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "CODEARTIFACT_AUTH_TOKEN",
    "GITLAB_API_KEY", "DEPLOY_APIKEY", "SSH_PRIVATE_KEY", "GPG_PASSPHRASE", "PGPASSWORD", "MYSQL_PWD", "GITHUB_TOKEN",
    "VAULT_SECRET", "GOOGLE_APPLICATION_CREDENTIALS", "poetry_http_basic_private_password",
])
def test_secret_variables_are_masked(name):
    assert env_secrets({name: "s3cret-value", "POETRY_HTTP_BASIC_PRIVATE_USERNAME": "deploy"}) == {"s3cret-value"}


@pytest.mark.parametrize("name", [
    "POETRY_HTTP_BASIC_PRIVATE_USERNAME", "POETRY_CONFIG_DIR", "POETRY_CERTIFICATES_SECURE_CLIENT_CERT",
    "POETRY_VIRTUALENVS_IN_PROJECT", "TOKENIZERS_PARALLELISM", "PWD", "KEYRING_BACKEND", "POETRY_KEYRING_ENABLED",
])
def test_other_variables_are_shown(name):
    assert env_secrets({name: "false"}) == set()


def test_credentials_in_urls_are_masked_whatever_the_name():
    assert env_secrets({"PIP_INDEX_URL": "https://deploy:s3cret@pypi.example.com/simple/"}) == {
        "deploy:s3cret", "s3cret"}


@pytest.mark.parametrize("env, secrets", [
    ({"POETRY_HTTP_BASIC_X_PASSWORD": ""}, set()),  # masking "" would garble every string
    ({"POETRY_HTTP_BASIC_X_PASSWORD": 123456}, {"123456"}),
    ({"POETRY_HTTP_BASIC_X_PASSWORD": ["s3cret-a", {"b": "s3cret-b"}]}, {"s3cret-a", "s3cret-b"}),
    ("POETRY_HTTP_BASIC_X_USERNAME=deploy POETRY_HTTP_BASIC_X_PASSWORD=s3cret", {"s3cret"}),
    (None, set()),
    (["POETRY_HTTP_BASIC_X_PASSWORD"], set()),
])
def test_secrets_of_any_shape_of_the_option(env, secrets):
    assert env_secrets(env) == secrets


@pytest.mark.parametrize("output, version", [
    ("Poetry (version 1.8.5)\n", (1, 8, 5)),
    ("Poetry (version 2.5.1)\n", (2, 5, 1)),
    ("Poetry (version 2.0.0.dev0)\n", (2, 0, 0)),
])
def test_version_is_asked_once(output, version):
    module = FakeModule([(0, output, "")])
    runner = PoetryRunner(module)
    assert runner.version == version
    assert runner.version == version
    assert [call["cmd"][-1] for call in module.calls] == ["--version"]


def test_poetry_older_than_1_8_is_refused():
    with pytest.raises(PoetryError) as error:
        PoetryRunner(FakeModule([version_answer("1.7.1")])).version
    assert error.value.msg == "/usr/bin/poetry is Poetry 1.7.1; lockstep.poetry needs Poetry 1.8 or newer"


def test_unreadable_version_is_an_error():
    with pytest.raises(PoetryError, match="cannot read the version"):
        PoetryRunner(FakeModule([(0, "something else", "")])).version


# What pip writes for Poetry's entry point in a virtualenv (seen in the test bed's Poetry 2.5.1).
ENTRY_POINT = """#!{python}
# -*- coding: utf-8 -*-
import re
import sys
from poetry.console.application import main
if __name__ == "__main__":
    sys.argv[0] = re.sub(r"(-script\\.pyw|\\.exe)?$", "", sys.argv[0])
    sys.exit(main())
"""
# What the lockstep.poetry.poetry role writes in front of it for a PyPI mirror.
WRAPPER = """#!/bin/sh
# Ansible managed
# Poetry from {venv}. Its PyPI traffic goes through the mirror below
# (poetry-plugin-pypi-mirror) for every user; a caller's own settings win.
POETRY_PYPI_MIRROR_URL=${{POETRY_PYPI_MIRROR_URL:-https://pypi.org/simple/}}
export POETRY_PYPI_MIRROR_URL
exec {venv}/bin/poetry "$@"
"""


def poetry_venv(tmp_path, *versions, python="python3.11"):
    """A virtualenv laid out as pip leaves it, with a poetry-VERSION.dist-info per version."""
    venv = tmp_path / "venv-poetry"
    site = venv / "lib" / python / "site-packages"
    site.mkdir(parents=True)
    (venv / "bin").mkdir()
    (venv / "bin" / python).write_text("")
    for version in versions:
        (site / ("poetry-%s.dist-info" % version)).mkdir()
    (site / "poetry_core-2.1.3.dist-info").mkdir()
    (venv / "bin" / "poetry").write_text(ENTRY_POINT.format(python=venv / "bin" / python))
    (venv / "bin" / "poetry").chmod(0o755)
    return venv


@pytest.mark.parametrize("version", ["1.8.5", "2.5.1"])
def test_version_is_read_from_the_virtualenv_without_starting_poetry(tmp_path, version):
    venv = poetry_venv(tmp_path, version)
    module = FakeModule()
    runner = PoetryRunner(module, str(venv / "bin" / "poetry"))
    assert runner.version == tuple(int(part) for part in version.split("."))
    assert module.calls == []


def test_version_is_read_behind_a_link_and_the_roles_wrapper(tmp_path):
    venv = poetry_venv(tmp_path, "2.5.1")
    (tmp_path / "venv").symlink_to(venv)
    wrapper = tmp_path / "poetry"
    wrapper.write_text(WRAPPER.format(venv=tmp_path / "venv"))
    wrapper.chmod(0o755)
    (tmp_path / "link").symlink_to(wrapper)
    module = FakeModule()
    assert PoetryRunner(module, str(tmp_path / "link")).version == (2, 5, 1)
    assert module.calls == []


def test_poetry_older_than_1_8_is_refused_from_its_metadata_too(tmp_path):
    venv = poetry_venv(tmp_path, "1.7.1")
    with pytest.raises(PoetryError, match=r"is Poetry 1\.7\.1; lockstep.poetry needs Poetry 1\.8 or newer"):
        PoetryRunner(FakeModule(), str(venv / "bin" / "poetry")).version


@pytest.mark.parametrize("layout", ["system python", "two versions", "wrapper of a wrapper", "binary"])
def test_poetry_is_asked_when_its_installation_does_not_tell(tmp_path, layout):
    venv = poetry_venv(tmp_path, *(["1.8.5", "2.5.1"] if layout == "two versions" else ["2.5.1"]))
    executable = venv / "bin" / "poetry"
    if layout == "system python":
        # Debian's python3-poetry: the metadata is in dist-packages, not looked for.
        executable.write_text(ENTRY_POINT.format(python="/usr/bin/python3"))
    elif layout == "wrapper of a wrapper":
        inner = tmp_path / "inner"
        inner.write_text(WRAPPER.format(venv=venv))
        executable = tmp_path / "outer"
        executable.write_text("#!/bin/sh\nexec %s \"$@\"\n" % inner)
        executable.chmod(0o755)
    elif layout == "binary":
        executable.write_bytes(b"\x7fELF\x02\x01\x01")
    module = FakeModule([version_answer("2.5.1")])
    assert PoetryRunner(module, str(executable)).version == (2, 5, 1)
    assert [call["cmd"][-1] for call in module.calls] == ["--version"]


INSTALL_OPTIONS = dict(only=["main"], with_groups=["docs"], without_groups=["dev", "test"], extras=["fancy"],
                       all_extras=False, root=False, compile=True, dry_run=True)
SPELLED = ["--compile", "--dry-run", "--only=main", "--with=docs", "--without=dev", "--without=test",
           "--extras=fancy", "--no-root"]


@pytest.mark.parametrize("version, sync, command", [
    ("1.8.5", True, ["install", "--sync"]),
    ("1.8.5", False, ["install"]),
    ("2.5.1", True, ["sync"]),
    ("2.5.1", False, ["install"]),
])
def test_install_spelling_per_version(version, sync, command):
    runner = PoetryRunner(FakeModule([version_answer(version)]))
    assert runner.install_args(sync=sync, **INSTALL_OPTIONS) == command + SPELLED


def test_defaults_add_no_options():
    runner = PoetryRunner(FakeModule([version_answer("2.5.1")]))
    assert runner.install_args(only=[], extras=None, all_extras=False, root=True, compile=False) == ["sync"]
    assert runner.install_args(all_extras=True) == ["sync", "--all-extras"]
    with pytest.raises(TypeError):
        runner.install_args(no_such_option=True)


@pytest.mark.parametrize("version, regenerate, command", [
    ("1.8.5", False, ["lock", "--no-update"]),
    ("1.8.5", True, ["lock"]),
    ("2.5.1", False, ["lock"]),
    ("2.5.1", True, ["lock", "--regenerate"]),
])
def test_lock_spelling_per_version(version, regenerate, command):
    runner = PoetryRunner(FakeModule([version_answer(version)]))
    assert runner.lock_args(regenerate=regenerate) == command
    assert runner.check_lock_args() == ["check", "--lock"]


@pytest.mark.parametrize("version", ["1.8.5", "2.5.1"])
def test_failure_names_the_unreachable_source(version):
    captured = Captured(version, "sync-unreachable")
    port = captured.port()
    show = " name      : private\n url       : http://127.0.0.1:%s/simple/\n priority  : primary\n" % port
    module = FakeModule([(1, captured.stdout, captured.stderr), (0, show, "")])
    with pytest.raises(PoetryError) as error:
        PoetryRunner(module).run(["sync"], cwd="/srv/app")
    assert error.value.msg == (
        "poetry sync failed: cannot reach the package index at 127.0.0.1:%s (source 'private'): "
        "is the source's URL right and its server up?" % port
    )
    assert (error.value.rc, error.value.stdout, error.value.stderr) == (1, captured.stdout, captured.stderr)
    assert module.calls[1]["cmd"][-2:] == ["source", "show"]


def test_unknown_failure_shows_poetry_last_line():
    module = FakeModule([(1, "", "\n  | Something new went wrong.\n  |\n")])
    with pytest.raises(PoetryError) as error:
        PoetryRunner(module).run(["sync"])
    assert error.value.msg == "poetry sync failed: Something new went wrong."


def test_check_false_returns_the_failure():
    assert PoetryRunner(FakeModule([(1, "", "no")])).run(["env", "info", "--path"], check=False) == (1, "", "no")


def test_failure_output_masks_credentials_in_urls():
    error = PoetryError(
        "cannot reach https://deploy:s3cret@repo.example.com/simple/",
        cmd=["poetry", "sync"], rc=1, stdout="at https://deploy:s3cret@repo.example.com/simple/x/", stderr="",
    )
    kwargs = error.to_fail_kwargs()
    assert "s3cret" not in str(kwargs)
    assert kwargs["msg"] == "cannot reach https://********@repo.example.com/simple/"
    assert kwargs == {"msg": kwargs["msg"], "cmd": ["poetry", "sync"], "rc": 1,
                      "stdout": "at https://********@repo.example.com/simple/x/", "stderr": ""}


def test_run_task_exits_with_the_commands_and_drops_diff_without_diff_mode():
    def task(runner):
        runner.run(["check", "--lock"])
        return {"changed": False, "diff": {"before": {}, "after": {}}}

    module = FakeModule([(0, "", "")])
    with pytest.raises(SystemExit):
        run_task(module, task)
    assert module.exit_args == {"changed": False,
                                "commands": [["/usr/bin/poetry", "--no-interaction", "--no-ansi", "check", "--lock"]]}


def test_run_task_fails_once_with_the_error_details():
    module = FakeModule([(1, "", "Error: poetry.lock was not found.\n")])
    with pytest.raises(SystemExit):
        run_task(module, lambda runner: runner.run(["check", "--lock"]))
    assert module.exit_args is None
    assert module.fail_args["msg"] == "poetry check --lock failed: Error: poetry.lock was not found."
    assert module.fail_args["rc"] == 1
    assert len(module.fail_args["commands"]) == 1


def test_missing_poetry_fails_without_commands():
    module = FakeModule(bin_path=None)
    with pytest.raises(SystemExit):
        run_task(module, lambda runner: {})
    assert module.fail_args["commands"] == []
    assert module.fail_args["msg"].startswith("poetry was not found")
