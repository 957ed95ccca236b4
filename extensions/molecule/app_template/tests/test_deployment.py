"""The deployment as its users and operators see it (testinfra, run by `molecule verify`): the
service runs and answers its health check, the release holds your poetry.lock, and its
virtualenv holds exactly what that lock says. The role's variables come from the inventory
(molecule.yml), templated by Ansible."""

import hashlib
import json
import os
import subprocess

import pytest

# What the tests need of the role's variables, with the role's defaults.
VARIABLES = {
    "name": "{{ poetry_app_name }}",
    "service": "{{ poetry_app_service_name | default(poetry_app_name) }}",
    "root": "{{ poetry_app_root | default('/srv/' ~ poetry_app_name) }}",
    "source": "{{ poetry_app_source.path }}",
    "healthcheck_url": "{{ poetry_app_healthcheck_url }}",
}


@pytest.fixture(scope="module")
def app(host):
    answer = host.ansible("ansible.builtin.debug", json.dumps({"msg": VARIABLES}), check=False)
    return answer["msg"]


def test_service_is_enabled_and_running(host, app):
    service = host.service(app["service"])
    assert service.is_enabled
    assert service.is_running


def test_answers_its_health_check(host, app):
    answer = host.ansible("ansible.builtin.uri", json.dumps({"url": app["healthcheck_url"]}), check=False)
    assert answer["status"] == 200


def test_release_holds_your_lock(host, app):
    with open(os.path.join(app["source"], "poetry.lock"), "rb") as lock:
        yours = hashlib.sha256(lock.read()).hexdigest()
    assert host.file(app["root"] + "/current/poetry.lock").sha256sum == yours


def test_environment_matches_the_lock(host, app):
    # The playbook the collection ships for a fleet, on this host: it reads the role's variables
    # from the inventory (groups, extras, root) and fails unless the virtualenv matches the lock.
    result = subprocess.run(
        ["ansible-playbook", "lockstep.poetry.verify", "--inventory", os.environ["MOLECULE_INVENTORY_FILE"],
         "--limit", host.ansible.get_variables()["inventory_hostname"]],
        capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "%s on 1 hosts: 1 matching lock" % app["name"] in result.stdout, result.stdout
