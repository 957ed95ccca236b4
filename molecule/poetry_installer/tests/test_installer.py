"""lockstep.poetry.poetry with the installer method, on the converged host (Poetry 2.4.3).

The layout is the official installer's (poetry_home/venv, poetry_home/bin/poetry, VERSION), made
here by its stand-in. Check mode and the facts it predicts are read from a run of the scenario's
converge playbook in check mode (ansible-playbook with the JSON callback, against Molecule's
inventory); converge itself checks the facts of the real run.
"""

import json
import os
import subprocess

# The container and its inventory name. Looks go straight to it (docker exec), much faster than
# through a module run each.
HOSTNAME = "lockstep-poetry-installer"
testinfra_hosts = ["docker://" + HOSTNAME]
SCENARIO = os.environ["MOLECULE_SCENARIO_DIRECTORY"]
INVENTORY = os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"])


def check_mode_run(**variables):
    """Apply converge.yml in check mode: the number of tasks that would change, and the facts set."""
    argv = ["ansible-playbook", "--check", "-i", INVENTORY, "--limit", HOSTNAME,
            os.path.join(SCENARIO, "converge.yml"), "-e", json.dumps(variables)]
    # Only the JSON result on stdout: no other callback (scripts/test enables profile_tasks).
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    env.pop("ANSIBLE_CALLBACKS_ENABLED", None)
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}"
    output = json.loads(proc.stdout)
    facts = {}
    for play in output["plays"]:
        for task in play["tasks"]:
            facts.update(task["hosts"].get(HOSTNAME, {}).get("ansible_facts", {}))
    return output["stats"][HOSTNAME]["changed"], facts


def installed_version(host):
    return host.check_output("/usr/local/bin/poetry --version --no-ansi")


def test_poetry_runs_the_pinned_version(host):
    assert "(version 2.4.3)" in installed_version(host)
    assert "poetry-plugin-pypi-mirror" in host.check_output("/usr/local/bin/poetry self show plugins")


def test_layout_is_the_installers(host):
    venv = host.file("/opt/poetry/venv")
    assert venv.is_directory and not venv.is_symlink
    assert host.file("/opt/poetry/venv/poetry_env").is_file
    assert "home = /usr/bin" in host.file("/opt/poetry/venv/pyvenv.cfg").content_string
    assert host.file("/opt/poetry/VERSION").content_string.strip() == "2.4.3"
    # The script stays beside the installation it made; nothing else is left.
    assert host.file("/opt/poetry/install-poetry.py").is_file
    assert sorted(host.check_output("ls -A /opt/poetry").split()) == ["VERSION", "bin", "install-poetry.py", "venv"]


def test_command_goes_through_the_mirror(host):
    command = host.file("/opt/poetry/bin/poetry")
    assert command.is_file and command.mode == 0o755
    assert "POETRY_PYPI_MIRROR_URL=${POETRY_PYPI_MIRROR_URL:-https://pypi.org/simple/}" in command.content_string
    assert "exec /opt/poetry/venv/bin/poetry " in command.content_string
    link = host.file("/usr/local/bin/poetry")
    assert link.is_symlink and link.linked_to == "/opt/poetry/bin/poetry"


def test_check_mode_reports_an_upgrade_and_changes_nothing(host):
    changed, facts = check_mode_run(poetry_version="2.5.1")
    assert changed > 0
    # The facts tell what the run would leave.
    assert facts["poetry_executable"] == "/usr/local/bin/poetry"
    assert facts["poetry_installed_version"] == "2.5.1"
    assert "(version 2.4.3)" in installed_version(host)
    assert host.file("/opt/poetry/VERSION").content_string.strip() == "2.4.3"
