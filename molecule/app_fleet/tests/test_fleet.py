"""The fleet built once on the controller: each host serves the release from a virtualenv that
holds exactly what the lock says (lockstep.poetry.verify), and none holds a credential of the
index or Poetry."""

import json
import os
import sys

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


# What the .pyc files of a virtualenv's site-packages say: whether each is its Python's (magic
# number), and their flags (0b11: checked hash-based, PEP 552; 0: time-stamped).
BYTECODE_SCRIPT = """
import importlib.util, json, pathlib, site, sys
heads = [path.read_bytes()[:8] for path in pathlib.Path(site.getsitepackages()[0]).rglob("*.pyc")]
print(json.dumps({"version": list(sys.version_info[:2]), "count": len(heads),
                  "magic": all(head[:4] == importlib.util.MAGIC_NUMBER for head in heads),
                  "flags": sorted(set(int.from_bytes(head[4:8], "little") for head in heads))}))
"""


def test_bytecode_fits_the_hosts_python(host):
    # Each .pyc is the host's Python's, checked hash-based (PEP 552: flags 0b11, compiled once on
    # the controller) or time-stamped (0, compiled on the host).
    said = json.loads(host.check_output("%s -c %s", ROOT + "/current/.venv/bin/python", BYTECODE_SCRIPT))
    assert said["count"] > 10 and said["magic"] and set(said["flags"]) <= {0, 0b11}, said
    # After the first deploy (one release), built on the controller: a host of the controller's
    # own Python runs the controller's bytecode only. (A later deploy that puts a virtualenv
    # right installs only what differed, so a virtualenv can then hold both.)
    built_on = json.loads(host.file(ROOT + "/current/.venv/.lockstep-virtualenv.json").content_string)["built_on"]
    if len(host.file(ROOT + "/releases").listdir()) == 1 and built_on == "controller" \
            and tuple(said["version"]) == sys.version_info[:2]:
        assert said["flags"] == [0b11], said
