# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The env option of the modules that run Poetry (install, lock, info): every command gets its
variables, and the secrets among them are masked in the result, in failures (of Poetry or of
the argument check) and in the line Ansible writes to the host's system log, while the other
variables stay visible."""

import json
import os

import pytest

from ansible.module_utils import basic

from ansible_collections.lockstep.poetry.plugins.modules import info, install, lock
from ansible_collections.lockstep.poetry.tests.unit.plugins.modules.fake_poetry import (
    Call,
    FakeHost,
    make_virtualenv,
    version,
)
from ansible_collections.lockstep.poetry.tests.unit.plugins.modules.run_module import run_module

SECRET = "s3cret-index-pass"
MASKED = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
ENV = {
    "POETRY_HTTP_BASIC_PRIVATE_USERNAME": "deploy",
    "POETRY_HTTP_BASIC_PRIVATE_PASSWORD": SECRET,
    "POETRY_VIRTUALENVS_IN_PROJECT": True,
}
LOCK = '[[package]]\nname = "click"\nversion = "8.1.8"\n'


@pytest.fixture
def host(monkeypatch, tmp_path):
    return FakeHost(monkeypatch, tmp_path)


@pytest.fixture
def system_log(monkeypatch):
    """The lines the module writes to the host's system log (the journal, where Python can
    reach it, gets the same)."""
    lines = []
    monkeypatch.setattr(basic, "has_journal", False)
    monkeypatch.setattr(basic.syslog, "openlog", lambda *args: None)
    monkeypatch.setattr(basic.syslog, "syslog", lambda priority, line: lines.append(line))
    return lines


@pytest.fixture
def project(tmp_path):
    path = tmp_path / "app"
    path.mkdir()
    (path / "pyproject.toml").write_text('[tool.poetry]\nname = "demo-app"\nversion = "0.1.0"\n')
    (path / "poetry.lock").write_text(LOCK)
    return str(path)


def assert_masked(result, system_log):
    assert SECRET not in json.dumps(result)
    shown = result["invocation"]["module_args"]["env"]
    assert shown == {"POETRY_HTTP_BASIC_PRIVATE_USERNAME": "deploy", "POETRY_HTTP_BASIC_PRIVATE_PASSWORD": MASKED,
                     "POETRY_VIRTUALENVS_IN_PROJECT": True}
    invoked = [line for line in system_log if "Invoked with" in line]
    assert len(invoked) == 1
    assert SECRET not in invoked[0]
    assert "POETRY_HTTP_BASIC_PRIVATE_USERNAME" in invoked[0] and "deploy" in invoked[0]


def test_poetry_gets_the_variables_and_the_result_masks_the_secret(capsys, host, system_log, project):
    host.expect(Call.captured(["check", "--lock"], "2.5.1", "check-lock-fresh",
                              env={"POETRY_HTTP_BASIC_PRIVATE_USERNAME": "deploy",
                                   "POETRY_HTTP_BASIC_PRIVATE_PASSWORD": SECRET,
                                   "POETRY_VIRTUALENVS_IN_PROJECT": "true"}))
    result = run_module(lock, capsys, dict(project_path=project, env=ENV))
    assert host.done()
    assert result["changed"] is False
    assert SECRET not in json.dumps(result["commands"])
    assert_masked(result, system_log)


def test_poetry_output_that_shows_the_secret_is_masked(capsys, host, system_log, project):
    host.expect(Call(["check", "--lock"], rc=1, stdout="tried deploy:%s\n" % SECRET,
                     stderr="Error: %s was refused\n" % SECRET))
    result = run_module(lock, capsys, dict(project_path=project, env=ENV))
    assert result["failed"] is True
    assert result["msg"] == "poetry check --lock failed: Error: ******** was refused"
    assert result["stdout"] == "tried deploy:********\n"
    assert_masked(result, system_log)


@pytest.mark.parametrize("module", [install, lock, info])
def test_failures_before_poetry_runs_mask_the_secret(capsys, host, system_log, tmp_path, module):
    result = run_module(module, capsys, dict(project_path=str(tmp_path), env=ENV))
    assert result["failed"] is True
    assert result["msg"].startswith("no pyproject.toml in ")
    assert_masked(result, system_log)


def test_a_failed_argument_check_masks_the_secret(capsys, host, system_log, project):
    result = run_module(install, capsys, dict(project_path=project, env=ENV, extras=["fancy"], all_extras=True))
    assert result["failed"] is True
    assert "mutually exclusive" in result["msg"]
    assert SECRET not in json.dumps(result)
    assert result["invocation"]["module_args"]["env"]["POETRY_HTTP_BASIC_PRIVATE_PASSWORD"] == MASKED


def test_variables_that_are_not_scalars_fail_clearly(capsys, host, system_log, project):
    env = dict(ENV, POETRY_HTTP_BASIC_PRIVATE_PASSWORD=[SECRET])
    result = run_module(install, capsys, dict(project_path=project, env=env))
    assert result["failed"] is True
    assert result["msg"] == ("env: the value of POETRY_HTTP_BASIC_PRIVATE_PASSWORD must be a string, a number "
                             "or a boolean, not a list")
    assert result["commands"] == []
    assert SECRET not in json.dumps(result)
    assert all(SECRET not in line for line in system_log)


def test_path_of_the_env_option_follows_the_virtualenv(capsys, host, project, tmp_path):
    venv = str(tmp_path / "venv")
    make_virtualenv(venv, [("click", "8.1.8"), ("demo-app", "0.1.0")])
    host.expect(version("2.5.1"), Call.captured(
        ["sync", "--dry-run"], "2.5.1", "dry-run-in-sync",
        env={"VIRTUAL_ENV": venv, "PATH": os.path.join(venv, "bin") + os.pathsep + "/opt/tools/bin"}))
    result = run_module(install, capsys, dict(project_path=project, virtualenv=venv, env={"PATH": "/opt/tools/bin"}))
    assert host.done()
    assert result["changed"] is False
