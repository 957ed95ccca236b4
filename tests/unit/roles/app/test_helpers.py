# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lockstep.poetry.app role's helper scripts (roles/app/files), run as the role runs them: a
separate, isolated Python without site-packages, with base64 JSON as the argument."""

from __future__ import annotations

import base64
import grp
import hashlib
import json
import os
import pwd
import subprocess
import sys

import pytest

FILES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "roles", "app", "files")
USER = pwd.getpwuid(os.getuid()).pw_name
GROUP = grp.getgrgid(os.getgid()).gr_name


def run_script(name, *argv):
    """Runs one of the helpers with argv; returns what it printed."""
    result = subprocess.run([sys.executable, "-I", "-S", os.path.join(FILES, name)] + list(argv),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def run_helper(name, args):
    """Runs a helper that takes base64 JSON and prints JSON, as the role does."""
    return json.loads(run_script(name, base64.b64encode(json.dumps(args).encode()).decode()))


def inspect_host(root, **overrides):
    args = {
        "root": str(root),
        "directories": [str(root), str(root / "releases"), str(root / "venvs")],
        "user": USER,
        "group": GROUP,
        "env_file": str(root / "app.env"),
        "unit_file": "",
        "restart_marker": str(root / ".restart-needed"),
        "service": "",
    }
    args.update(overrides)
    return run_helper("inspect_host.py", args)


def directory(path, mode=0o755):
    path.mkdir()
    path.chmod(mode)
    return path


def test_inspect_empty_host(tmp_path):
    root = tmp_path / "srv"
    found = inspect_host(root)
    assert found["directories_to_fix"] == [str(root), str(root / "releases"), str(root / "venvs")]
    assert found["current_release"] == ""
    assert found["releases"] == {} and found["venvs"] == {}
    assert found["files"] == {"env": None, "unit": None, "restart_marker": False}
    assert found["app_user_exists"] and found["app_group_exists"]
    assert found["user"] == USER
    assert found["python_version"] == "%d.%d" % sys.version_info[:2]
    assert found["service"] is None


def test_inspect_layout(tmp_path):
    root = directory(tmp_path / "srv")
    releases = directory(root / "releases", 0o700)  # wrong mode: to fix
    venvs = directory(root / "venvs")
    ready = directory(venvs / "py3.11-aaaaaaaaaaaa")
    (ready / ".lockstep-virtualenv.json").write_text(json.dumps({"lock_sha1": "1" * 40}))
    directory(venvs / "py3.11-bbbbbbbbbbbb")  # not marked ready
    complete = directory(releases / "r1")
    (complete / ".venv").symlink_to("../../venvs/py3.11-aaaaaaaaaaaa")
    directory(releases / "r2")  # unpacked, never linked to a virtualenv
    directory(releases / ".lockstep-stage.r3.x")  # being unpacked: not a release
    (root / "current").symlink_to("releases/r1")
    (root / "app.env").write_text("A=1\n")
    (root / "app.env").chmod(0o600)

    found = inspect_host(root)

    assert found["directories_to_fix"] == [str(releases)]
    assert found["current_release"] == "r1"
    assert sorted(found["releases"]) == ["r1", "r2"]
    assert found["releases"]["r1"]["venv"] == "py3.11-aaaaaaaaaaaa"
    assert found["releases"]["r2"]["venv"] is None
    assert found["venvs"] == {"py3.11-aaaaaaaaaaaa": {"lock_sha1": "1" * 40}, "py3.11-bbbbbbbbbbbb": None}
    env = found["files"]["env"]
    assert (env["type"], env["mode"], env["owner"]) == ("file", "0600", USER)
    assert env["sha1"] == hashlib.sha1(b"A=1\n").hexdigest()


def test_inspect_directory_of_another_owner_or_a_link(tmp_path):
    root = directory(tmp_path / "srv")
    (root / "releases").symlink_to(tmp_path)  # a link where a directory belongs
    found = inspect_host(root, group="nogroup-%d" % os.getpid())
    assert found["directories_to_fix"] == [str(root), str(root / "releases"), str(root / "venvs")]
    assert not found["app_group_exists"]


def test_inspect_current_that_is_not_a_link(tmp_path):
    root = directory(tmp_path / "srv")
    directory(root / "current")
    assert inspect_host(root)["current_release"] == ""


def test_switch_links(tmp_path):
    release = directory(tmp_path / "r2")
    current = tmp_path / "current"
    current.symlink_to("r1")
    args = {"links": [[str(current), "r2"], [str(tmp_path / "gone"), None]], "touch": str(release), "check": True}
    (tmp_path / "gone").symlink_to("r0")

    assert run_helper("switch.py", args) == {"changed": [str(current), str(tmp_path / "gone")]}
    assert os.readlink(str(current)) == "r1"  # check mode changed nothing

    os.utime(str(release), (0, 0))
    assert run_helper("switch.py", dict(args, check=False))["changed"] == [str(current), str(tmp_path / "gone")]
    assert os.readlink(str(current)) == "r2"
    assert not os.path.lexists(str(tmp_path / "gone"))
    assert release.stat().st_mtime > 0  # marked as the newest release

    assert run_helper("switch.py", dict(args, check=False)) == {"changed": []}


@pytest.mark.parametrize("command", [["sh", "-c", 'echo "$GREETING $VIRTUAL_ENV $(pwd)"'],
                                     "sh -c 'echo \"$GREETING $VIRTUAL_ENV $(pwd)\"'"])
def test_run_loads_the_environment_file(tmp_path, command):
    (tmp_path / "app.env").write_text('GREETING="hello \\"you\\""\n')
    args = {"chdir": str(tmp_path), "env_file": str(tmp_path / "app.env"), "venv": "/nonexistent/venv",
            "command": command}
    output = run_script("run.py", base64.b64encode(json.dumps(args).encode()).decode())
    assert output == 'hello "you" /nonexistent/venv %s\n' % tmp_path
