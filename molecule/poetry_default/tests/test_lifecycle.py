"""Upgrade, downgrade and removal with lockstep.poetry.poetry, in order, on the lifecycle host.

Each step applies the scenario's converge playbook with other variables (ansible-playbook with
the JSON callback, against Molecule's inventory) and then looks at the host as a user would.
The tests depend on each other's order, as the life of a host does.
"""

import json
import os
import subprocess

import pytest

testinfra_hosts = ["ansible://lifecycle"]
SCENARIO = os.environ["MOLECULE_SCENARIO_DIRECTORY"]
INVENTORY = os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"])


class Run:
    """The outcome of one ansible-playbook run on one host."""

    def __init__(self, hostname, output):
        self.stats = output["stats"][hostname]
        self.changed = self.stats["changed"]
        self.failed = self.stats["failures"] > 0
        self.messages = [
            result.get("msg", "")
            for play in output["plays"]
            for task in play["tasks"]
            for name, result in task["hosts"].items()
            if name == hostname and result.get("failed") and not result.get("ignore_errors")
        ]


@pytest.fixture
def apply(host):
    hostname = host.backend.host

    def apply(check=False, **variables):
        argv = ["ansible-playbook", "-i", INVENTORY, "--limit", hostname,
                os.path.join(SCENARIO, "converge.yml"), "-e", json.dumps(variables)]
        argv += ["--check"] if check else []
        # Only the JSON result on stdout: no other callback (scripts/test enables profile_tasks).
        env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
        env.pop("ANSIBLE_CALLBACKS_ENABLED", None)
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
        try:
            return Run(hostname, json.loads(proc.stdout))
        except (ValueError, KeyError):
            pytest.fail(f"ansible-playbook gave no result (rc {proc.returncode}):\n"
                        f"{proc.stdout}\n{proc.stderr}")

    return apply


def poetry_version(host):
    return host.check_output("/usr/local/bin/poetry --version")


def plugins(host):
    return host.check_output("/usr/local/bin/poetry self show plugins")


def venvs(host):
    return host.check_output("ls -d /opt/poetry/venv-* 2>/dev/null || true").split()


def test_converged_install(host, apply):
    assert "(version 2.4.3)" in poetry_version(host)
    assert "poetry-plugin-export" in plugins(host)
    assert apply(check=True).changed == 0


def test_check_mode_reports_an_upgrade_and_changes_nothing(host, apply):
    run = apply(check=True, poetry_version="2.5.1")
    assert not run.failed and run.changed > 0
    assert "(version 2.4.3)" in poetry_version(host)
    assert venvs(host) == ["/opt/poetry/venv-2.4.3-py3.13"]


def test_failed_upgrade_keeps_the_previous_poetry(host, apply):
    run = apply(poetry_version="2.5.1", poetry_plugins=["lockstep-no-such-plugin==1.0"])
    assert run.failed
    assert any("Installing Poetry 2.5.1 failed; Poetry 2.4.3 is still in place" in m
               for m in run.messages), run.messages
    assert "(version 2.4.3)" in poetry_version(host)
    assert venvs(host) == ["/opt/poetry/venv-2.4.3-py3.13"]


def test_upgrade(host, apply):
    assert apply(poetry_version="2.5.1").changed > 0
    assert "(version 2.5.1)" in poetry_version(host)
    assert "poetry-plugin-export" in plugins(host)
    assert host.file("/opt/poetry/venv").linked_to == "/opt/poetry/venv-2.5.1-py3.13"
    assert venvs(host) == ["/opt/poetry/venv-2.5.1-py3.13"]


def test_plugin_removed_from_the_list_is_uninstalled(host, apply):
    assert apply(poetry_version="2.5.1", poetry_plugins=[]).changed > 0
    listed = plugins(host)
    assert "poetry-plugin-export" not in listed
    assert "poetry-plugin-pypi-mirror" in listed


def test_downgrade(host, apply):
    assert apply(poetry_version="2.4.3", poetry_plugins=[]).changed > 0
    assert "(version 2.4.3)" in poetry_version(host)
    assert "poetry-plugin-export" not in plugins(host)
    assert venvs(host) == ["/opt/poetry/venv-2.4.3-py3.13"]


def test_removal(host, apply):
    assert apply(poetry_state="absent").changed > 0
    assert not host.file("/opt/poetry").exists
    assert not host.file("/usr/local/bin/poetry").exists
    assert apply(poetry_state="absent").changed == 0


def test_check_mode_on_an_empty_host(host, apply):
    run = apply(check=True)
    assert not run.failed and run.changed > 0
    assert not host.file("/opt/poetry").exists
