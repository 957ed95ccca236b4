# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The helpers (plugin_utils/_helpers), run as plugin_utils/_helper.py runs them: a separate,
isolated Python without site-packages, with base64 JSON as the argument."""

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

from ansible_collections.lockstep.poetry.plugins.plugin_utils._app_layout import app_layout
from ansible_collections.lockstep.poetry.plugins.plugin_utils._helper import helper_path

USER = pwd.getpwuid(os.getuid()).pw_name
GROUP = grp.getgrgid(os.getgid()).gr_name


def run_helper(name, args):
    """Runs a helper with args; returns the JSON object it printed."""
    argument = base64.b64encode(json.dumps(args).encode()).decode()
    result = subprocess.run([sys.executable, "-I", "-S", helper_path(name), argument],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def inspect_host(root, **overrides):
    layout = app_layout(str(root))
    args = {
        "layout": layout,
        "directories": [layout["root"], layout["releases"], layout["venvs"]],
        "user": USER,
        "group": GROUP,
        "service": "",
    }
    args.update(overrides)
    return run_helper("inspect_app", args)


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
    assert found["files"] == {"env": None, "unit": None, "units": {}, "unit_manifest": None, "restart_marker": False}
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


def test_inspect_units_asked_for_and_recorded(tmp_path):
    root = directory(tmp_path / "srv")
    units = directory(tmp_path / "units")
    (units / "shopfront-web.service").write_text("[Service]\n")
    (units / "shopfront-web.socket").write_text("[Socket]\n")
    # Written by an earlier deploy for a service no longer in the release.
    (root / ".lockstep-units.json").write_text(json.dumps(["shopfront-web.service", "shopfront-old.service"]))
    layout = dict(app_layout(str(root)), unit_dir=str(units))
    found = inspect_host(root, layout=layout, unit_files=["shopfront-web.service", "shopfront-web.socket"])
    assert found["files"]["unit_manifest"] == ["shopfront-web.service", "shopfront-old.service"]
    assert sorted(found["files"]["units"]) == ["shopfront-old.service", "shopfront-web.service", "shopfront-web.socket"]
    assert found["files"]["units"]["shopfront-old.service"] is None
    assert found["files"]["units"]["shopfront-web.socket"]["sha1"] == hashlib.sha1(b"[Socket]\n").hexdigest()


def test_inspect_takes_the_deploy_lock_once(tmp_path):
    root = directory(tmp_path / "srv")
    layout = app_layout(str(root))
    lock = {"path": str(tmp_path / "app.lock"), "holder": {"token": "first"}, "replace": None}
    taken = inspect_host(root, layout=layout, lock=lock, scratch_prefix="app-deploy.")
    assert taken["lock"] == {"path": str(tmp_path / "app.lock"), "acquired": True, "holder": {"token": "first"}}
    assert taken["scratch"] is not None
    # A second run finds it held, and makes no scratch space.
    second = inspect_host(root, layout=layout, lock=dict(lock, holder={"token": "second"}), scratch_prefix="app-deploy.")
    assert second["lock"] == {"path": str(tmp_path / "app.lock"), "acquired": False, "holder": {"token": "first"}}
    assert second["scratch"] is None
    # Taken over from a run that ended without releasing it.
    over = inspect_host(root, layout=layout, lock={"path": lock["path"], "holder": {"token": "third"}, "replace": "first"})
    assert over["lock"]["acquired"] and over["lock"]["replaced"] == {"token": "first"}
    assert json.loads((tmp_path / "app.lock").read_text()) == {"token": "third"}
    os.rmdir(taken["scratch"])


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
    args = {"links": [[str(current), "r2"], [str(tmp_path / "gone"), None]], "touch": str(release),
            "_check_mode": True}
    (tmp_path / "gone").symlink_to("r0")

    assert run_helper("switch_links", args) == {"changed": True, "links_changed": [str(current), str(tmp_path / "gone")]}
    assert os.readlink(str(current)) == "r1"  # check mode changed nothing

    os.utime(str(release), (0, 0))
    args["_check_mode"] = False
    assert run_helper("switch_links", args)["links_changed"] == [str(current), str(tmp_path / "gone")]
    assert os.readlink(str(current)) == "r2"
    assert not os.path.lexists(str(tmp_path / "gone"))
    assert release.stat().st_mtime > 0  # marked as the newest release

    assert run_helper("switch_links", args) == {"changed": False, "links_changed": []}


def test_switch_links_records_the_switch_until_forgotten(tmp_path):
    current = tmp_path / "current"
    current.symlink_to("r1")
    record = tmp_path / "switch.json"
    args = {"links": [[str(current), "r2"]], "record": {"path": str(record), "content": {"from": "r1", "to": "r2"}}}
    run_helper("switch_links", dict(args, _check_mode=True))
    assert not record.exists()
    run_helper("switch_links", args)
    assert json.loads(record.read_text()) == {"from": "r1", "to": "r2"} and os.readlink(str(current)) == "r2"
    # Put back: the record goes once the links are as they were.
    assert run_helper("switch_links", {"links": [[str(current), "r1"]], "forget": str(record)})["changed"]
    assert not record.exists() and os.readlink(str(current)) == "r1"


@pytest.mark.parametrize("command", [["sh", "-c", 'echo "$GREETING $VIRTUAL_ENV $(pwd)"'],
                                     "sh -c 'echo \"$GREETING $VIRTUAL_ENV $(pwd)\"'"])
def test_run_loads_the_environment_file(tmp_path, command):
    (tmp_path / "app.env").write_text('GREETING="hello \\"you\\""\n')
    args = {"chdir": str(tmp_path), "env_file": str(tmp_path / "app.env"), "venv": "/nonexistent/venv",
            "command": command}
    answer = run_helper("run_command", args)
    assert answer["rc"] == 0 and not answer.get("failed")
    assert answer["stdout"] == 'hello "you" /nonexistent/venv %s\n' % tmp_path


def test_run_says_how_a_command_failed(tmp_path):
    (tmp_path / "app.env").write_text("")
    args = {"chdir": str(tmp_path), "env_file": str(tmp_path / "app.env"), "venv": "/nonexistent/venv",
            "command": ["sh", "-c", "echo starting; echo 'database is locked' >&2; exit 3"]}
    answer = run_helper("run_command", args)
    assert answer["failed"] and answer["rc"] == 3
    assert answer["msg"] == "sh -c 'echo starting; echo '\"'\"'database is locked'\"'\"' >&2; exit 3' exited with 3: database is locked"


def test_inspect_poetry_on_a_host_without_it(tmp_path):
    found = run_helper("inspect_poetry", {"home": str(tmp_path / "poetry"), "bin_dir": str(tmp_path / "bin"),
                                          "venv": "venv"})
    assert found["python"] == "%d.%d" % sys.version_info[:2]
    assert found["home"] == str(tmp_path / "poetry") and found["bin_dir_exists"] is False
    assert found["version"] is None and found["plugins"] == [] and found["venvs"] == []


def plugin(site_packages, name, version="1.0"):
    """A distribution in site_packages that registers a Poetry plugin."""
    dist_info = site_packages / ("%s-%s.dist-info" % (name, version))
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, version))
    (dist_info / "entry_points.txt").write_text("[poetry.application.plugin]\n%s = x:Plugin\n" % name)


def test_inspect_poetry_names_the_plugins_no_longer_wanted(tmp_path):
    site_packages = tmp_path / "poetry" / "venv" / "lib" / ("python%d.%d" % sys.version_info[:2]) / "site-packages"
    plugin(site_packages, "Poetry_Plugin.Export")
    plugin(site_packages, "old-plugin")
    found = run_helper("inspect_poetry", {"home": str(tmp_path / "poetry"), "bin_dir": str(tmp_path / "bin"),
                                          "venv": "venv", "plugins": ["poetry-plugin-export>=1.0"]})
    assert found["plugins"] == ["old-plugin", "poetry-plugin-export"]
    assert found["stale_plugins"] == ["old-plugin"]


def test_inspect_makes_scratch_space_only_when_asked(tmp_path):
    root = tmp_path / "srv"
    assert inspect_host(root)["scratch"] is None
    scratch = inspect_host(root, scratch_prefix="shopfront-deploy.")["scratch"]
    try:
        assert os.path.isdir(scratch) and os.path.basename(scratch).startswith("shopfront-deploy.")
        assert oct(os.stat(scratch).st_mode & 0o777) == "0o700"
    finally:
        os.rmdir(scratch)


def test_release_lock_only_the_runs_own(tmp_path):
    lock = tmp_path / "app.lock"
    lock.write_text(json.dumps({"token": "other"}))
    assert run_helper("release_lock", {"path": str(lock), "token": "mine"}) == {
        "changed": False, "released": False, "holder": {"token": "other"}}
    assert lock.exists()
    lock.write_text(json.dumps({"token": "mine"}))
    assert run_helper("release_lock", {"path": str(lock), "token": "mine"}) == {"changed": True, "released": True}
    assert not lock.exists()
    assert run_helper("release_lock", {"path": str(lock), "token": "mine"}) == {"changed": False, "released": False}


def test_inspect_reads_where_the_proxies_forward(tmp_path):
    live = tmp_path / "live.sock"
    live.symlink_to("/run/shopfront-api-candidate.sock")
    missing = str(tmp_path / "none.sock")
    found = inspect_host(tmp_path, live_links=[str(live), missing])
    assert found["live_links"] == {str(live): "/run/shopfront-api-candidate.sock", missing: None}
    assert inspect_host(tmp_path)["live_links"] == {}
