"""The fleet built once on the controller: each host serves the release from a virtualenv that
holds exactly what the lock says (lockstep.poetry.verify), and none holds a credential of the
index or Poetry."""

import json
import os

import pytest

ROOT = "/srv/shopfront"


@pytest.fixture(scope="module")
def password():
    with open(os.environ["LOCKSTEP_INDEX_STATE"]) as state:
        return json.load(state)["password"]


def test_answers_from_the_current_release(host):
    port = str(host.ansible.get_variables()["shopfront_port"])
    page = json.loads(host.check_output("curl -fsS http://127.0.0.1:%s/", port))
    assert page["directory"] == host.file(ROOT + "/current").linked_to
    assert page["greeting"].startswith("hello molecule from lockstep-sample-lib ")


def test_has_no_poetry(host):
    assert host.run("command -v poetry").rc != 0
    assert not host.file(ROOT + "/current/.venv/bin/poetry").exists


def test_holds_no_credential(host, password):
    # Poetry's auth.toml of any user, the environment file, the units, the releases, the
    # virtualenvs: nowhere on the host.
    found = host.run("grep -rlF -- %s /srv /etc /root /home /var/cache /tmp", password)
    assert found.stdout == ""
    assert not host.run("find / -xdev -name auth.toml -path '*pypoetry*'").stdout.strip()


def test_environment_matches_the_lock(host):
    # As the role installs it: the main group only.
    result = host.ansible("lockstep.poetry.verify",
                          "virtualenv=%s/current/.venv project_path=%s/current only=main" % (ROOT, ROOT),
                          check=False, become=True)
    assert result["matches"], result
    assert not result["changed"]
