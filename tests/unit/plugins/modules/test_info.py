# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""lockstep.poetry.info over output captured from real Poetry 1.8.5 and 2.5.1: the facts it
reports, that secrets stay hidden, and that it never creates or changes a file."""

import os

import pytest

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lockstep.poetry.plugins.module_utils import _install, _poetry_config
from ansible_collections.lockstep.poetry.plugins.module_utils._runner import PoetryRunner
from ansible_collections.lockstep.poetry.plugins.modules import info
from ansible_collections.lockstep.poetry.tests.unit.plugins.module_utils.captured import VERSIONS, Captured
from ansible_collections.lockstep.poetry.tests.unit.plugins.modules.run_module import run_module

LOCK = '[[package]]\nname = "click"\nversion = "8.1.8"\n'


def sync_command(version):
    return ("sync",) if version.startswith("2") else ("install", "--sync")


class Poetry:
    """Answers run_command like a real poetry binary would, from captured output, by the
    arguments after the global options; records what ran and with which environment."""

    def __init__(self, version, answers):
        self.answers = dict(answers)
        self.answers[("--version",)] = (0, "Poetry (version %s)\n" % version, "")
        self.calls = []

    def run_command(self, cmd, cwd=None, environ_update=None, check_rc=False):
        args = tuple(cmd[3:])  # poetry --no-interaction --no-ansi ARGS
        self.calls.append({"args": args, "cwd": cwd, "env": environ_update})
        answer = self.answers[args]
        return answer(cwd, environ_update) if callable(answer) else answer


def captured(version, name):
    output = Captured(version, name)
    return output.rc, output.stdout, output.stderr


@pytest.fixture
def executable(tmp_path):
    path = tmp_path / "bin" / "poetry"
    path.parent.mkdir()
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return str(path)


@pytest.fixture
def project(tmp_path):
    path = tmp_path / "app"
    path.mkdir()
    (path / "pyproject.toml").write_text('[tool.poetry]\nname = "demo-app"\n')
    return path


def virtualenv(path, packages):
    """A virtualenv as installed_packages() reads it: pyvenv.cfg and *.dist-info directories."""
    site = path / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    (path / "pyvenv.cfg").write_text("home = /usr/bin\n")
    for name, version in packages.items():
        (site / ("%s-%s.dist-info" % (name.replace("-", "_"), version))).mkdir()
    return str(path)


def facts(version, answers, project, executable, selection=None):
    fake = Poetry(version, answers)
    module = type("Module", (), {"run_command": fake.run_command})()
    runner = PoetryRunner(module, executable)
    result = info.project_facts(runner, _install.Project(str(project)), selection or _install.Selection())
    return result, fake


def lock(project):
    (project / "poetry.lock").write_text(LOCK)


@pytest.mark.parametrize("version", VERSIONS)
def test_drift_shows_as_differences(version, project, executable, tmp_path):
    lock(project)
    venv = virtualenv(tmp_path / "venv", {"click": "8.1.8", "iniconfig": "2.1.0", "demo-app": "0.1.0",
                                          "lockstep-sample-lib": "1.1.0", "tabulate": "0.9.0"})
    result, fake = facts(version, {
        ("check", "--lock"): captured(version, "check-lock-fresh"),
        ("env", "info", "--path"): (0, venv + "\n", ""),
        sync_command(version) + ("--dry-run",): captured(version, "dry-run-removal"),
    }, project, executable)
    assert result == {
        "lock_status": "fresh",
        "lock_fresh": True,
        "lock_hash": _install.file_hash(str(project / "poetry.lock")),
        "in_sync": False,
        "differences": [{"action": "remove", "name": "tabulate", "version": "0.9.0"}],
        "virtualenv": venv,
        "packages": {"click": "8.1.8", "demo-app": "0.1.0", "iniconfig": "2.1.0", "lockstep-sample-lib": "1.1.0",
                     "tabulate": "0.9.0"},
    }
    assert not os.path.exists(os.path.join(venv, _install.STAMP_FILE)), "check mode writes no stamp"


@pytest.mark.parametrize("version", VERSIONS)
def test_in_sync(version, project, executable, tmp_path):
    lock(project)
    venv = virtualenv(tmp_path / "venv", {"click": "8.1.8", "demo-app": "0.1.0"})
    result, fake = facts(version, {
        ("check", "--lock"): captured(version, "check-lock-fresh"),
        ("env", "info", "--path"): (0, venv + "\n", ""),
        sync_command(version) + ("--dry-run",): captured(version, "dry-run-in-sync"),
    }, project, executable)
    assert result["in_sync"] is True
    assert result["differences"] == []


@pytest.mark.parametrize("version", VERSIONS)
def test_selection_reaches_the_plan(version, project, executable, tmp_path):
    lock(project)
    venv = virtualenv(tmp_path / "venv", {"click": "8.1.8", "demo-app": "0.1.0"})
    selection = _install.Selection(only=["main"], extras=["fancy"], root=False, sync=False)
    result, fake = facts(version, {
        ("check", "--lock"): captured(version, "check-lock-fresh"),
        ("env", "info", "--path"): (0, venv + "\n", ""),
        ("install", "--dry-run", "--only=main", "--extras=fancy", "--no-root"): captured(version, "dry-run-in-sync"),
    }, project, executable, selection)
    assert result["in_sync"] is True


@pytest.mark.parametrize("version", VERSIONS)
def test_stale_lock(version, project, executable, tmp_path):
    lock(project)
    venv = virtualenv(tmp_path / "venv", {"click": "8.1.8"})
    result, fake = facts(version, {
        ("check", "--lock"): captured(version, "check-lock-stale"),
        ("env", "info", "--path"): (0, venv + "\n", ""),
    }, project, executable)
    assert result["lock_status"] == "stale"
    assert result["lock_fresh"] is False
    assert result["in_sync"] is False
    assert result["differences"] is None
    assert result["packages"] == {"click": "8.1.8"}


@pytest.mark.parametrize("version", VERSIONS)
def test_missing_lock_and_no_virtualenv(version, project, executable):
    result, fake = facts(version, {("env", "info", "--path"): (1, "", "")}, project, executable)
    assert result == {"lock_status": "missing", "lock_fresh": False, "lock_hash": None, "in_sync": False,
                      "differences": None, "virtualenv": None, "packages": {}}
    assert [call["args"] for call in fake.calls] == [("env", "info", "--path")]


@pytest.mark.parametrize("version", VERSIONS)
def test_settings_come_from_poetry_and_hide_secrets(version, tmp_path):
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "config.toml").write_text("[virtualenvs]\ncreate = true\n")
    seen = {}

    def config_list(cwd, env):
        scratch = env["POETRY_CONFIG_DIR"]
        seen["links"] = {name: os.readlink(os.path.join(scratch, name)) for name in os.listdir(scratch)}
        seen["cwd"] = cwd
        return captured(version, "config-list-project")

    fake = Poetry(version, {("config", "--list"): config_list})
    module = type("Module", (), {"run_command": fake.run_command})()
    executable = tmp_path / "poetry"
    executable.write_text("")
    executable.chmod(0o755)
    settings = _poetry_config.effective_settings(PoetryRunner(module, str(executable)), str(config_dir), "/srv/app")
    assert seen == {"links": {"config.toml": str(config_dir / "config.toml")}, "cwd": "/srv/app"}
    assert not os.path.exists(fake.calls[0]["env"]["POETRY_CONFIG_DIR"]), "the scratch directory is removed"
    assert os.listdir(str(config_dir)) == ["config.toml"]
    assert settings["plugins.codeartifact.token"] == "********"
    assert settings["repositories.leaky.url"] == "https://********@pypi.example.org/legacy/"
    assert settings["cache-dir"] == "/var/cache/pypoetry"
    assert settings["installer.no-binary"] == ["httpx", "rich"]
    assert "hunter2" not in str(settings)


@pytest.mark.parametrize("version", VERSIONS)
def test_module_without_project(version, capsys, monkeypatch, tmp_path):
    fake = Poetry(version, {("config", "--list"): captured(version, "config-list-defaults")})
    monkeypatch.setattr(AnsibleModule, "run_command", lambda self, cmd, **kwargs: fake.run_command(cmd, **kwargs))
    executable = tmp_path / "poetry"
    executable.write_text("")
    executable.chmod(0o755)
    result = run_module(info, capsys, dict(executable=str(executable), config_dir=str(tmp_path / "none")),
                        check_mode=True)
    assert result["changed"] is False
    assert result["poetry_version"] == version
    assert result["config_dir"] == str(tmp_path / "none")
    assert result["settings"]["virtualenvs.create"] is True
    assert "virtualenv" not in result and "in_sync" not in result
    assert not os.path.exists(str(tmp_path / "none")), "poetry config would have created it"


def test_config_dir_of_the_env_option(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("POETRY_CONFIG_DIR", str(tmp_path / "from-the-task"))
    fake = Poetry("2.5.1", {("config", "--list"): captured("2.5.1", "config-list-defaults")})
    monkeypatch.setattr(AnsibleModule, "run_command", lambda self, cmd, **kwargs: fake.run_command(cmd, **kwargs))
    executable = tmp_path / "poetry"
    executable.write_text("")
    executable.chmod(0o755)
    result = run_module(info, capsys, dict(executable=str(executable), env={"POETRY_CONFIG_DIR": str(tmp_path / "env")}))
    assert result["config_dir"] == str(tmp_path / "env")


def test_selection_options_are_the_install_ones(capsys, monkeypatch, tmp_path):
    fake = Poetry("2.5.1", {})
    monkeypatch.setattr(AnsibleModule, "run_command", lambda self, cmd, **kwargs: fake.run_command(cmd, **kwargs))
    result = run_module(info, capsys, dict(project_path=str(tmp_path), extras=["fancy"], all_extras=True))
    assert result["failed"] is True
    assert result["msg"] == "parameters are mutually exclusive: extras|all_extras"
    assert result["invocation"]["module_args"]["sync"] is True
    assert result["invocation"]["module_args"]["root"] is True


def test_module_not_a_project(capsys, monkeypatch, tmp_path):
    fake = Poetry("2.5.1", {})
    monkeypatch.setattr(AnsibleModule, "run_command", lambda self, cmd, **kwargs: fake.run_command(cmd, **kwargs))
    executable = tmp_path / "poetry"
    executable.write_text("")
    executable.chmod(0o755)
    result = run_module(info, capsys, dict(executable=str(executable), project_path=str(tmp_path)))
    assert result["failed"] is True
    assert result["msg"] == "no pyproject.toml in %s: project_path must be a Poetry project's directory" % tmp_path
    assert fake.calls == []
