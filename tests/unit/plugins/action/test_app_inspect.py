# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""lockstep.poetry.app_inspect's action: the release a source holds, and the inspection run
for real on this machine (the connection's commands run here, in a shell)."""

from __future__ import annotations

import grp
import hashlib
import json
import os
import posixpath
import pwd
import subprocess
import sys

import pytest

from ansible_collections.lockstep.poetry.plugins.action import app_inspect
from ansible_collections.lockstep.poetry.plugins.plugin_utils import _deploy_lock
from ansible_collections.lockstep.poetry.tests.unit.plugins.action.local_connection import local_action, run_action

USER = pwd.getpwuid(os.getuid()).pw_name
GROUP = grp.getgrgid(os.getgid()).gr_name


def project(path, lock=True):
    path.mkdir()
    (path / "pyproject.toml").write_text("[project]\nname = 'shopfront'\n")
    if lock:
        (path / "poetry.lock").write_text("# locked\n")
    (path / "shopfront.py").write_text("app = None\n")
    return path


def sha1(path):
    return hashlib.sha1(path.read_bytes()).hexdigest()


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    """Packed archives go to a cache of the test's own."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def test_a_directory_is_named_after_its_content(tmp_path):
    source = project(tmp_path / "src")
    release = app_inspect.release_of_directory(str(source), [])
    assert release["checksums"] == {"pyproject.toml": sha1(source / "pyproject.toml"),
                                    "poetry.lock": sha1(source / "poetry.lock")}
    assert release["archive"]["strip_components"] == 1
    assert os.path.basename(release["archive"]["src"]).startswith(release["id"])
    # Excluded files do not change the release; other content does.
    (source / "notes.tmp").write_text("scratch")
    again = app_inspect.release_of_directory(str(source), ["*.tmp"])
    assert again["id"] == release["id"]
    (source / "shopfront.py").write_text("app = 'changed'\n")
    changed = app_inspect.release_of_directory(str(source), ["*.tmp"])
    assert changed["id"] != release["id"]


def test_a_directory_without_lock_has_no_lock_checksum(tmp_path):
    source = project(tmp_path / "src", lock=False)
    release = app_inspect.release_of_directory(str(source), [])
    assert release["checksums"]["poetry.lock"] is None


def test_a_missing_directory_cannot_be_packed(tmp_path):
    with pytest.raises(app_inspect.AnsibleError, match="Could not pack poetry_app_source.path: .*is not a directory"):
        app_inspect.release_of_directory(str(tmp_path / "nothing"), [])


def test_an_archive_is_named_after_its_checksum(tmp_path):
    archive = tmp_path / "shopfront-1.0.tar.gz"
    archive.write_bytes(b"not really an archive, but checksummed all the same")
    release = app_inspect.release_of_archive(str(archive), "shopfront-1.0.tar.gz", 1)
    assert release == {
        "id": hashlib.sha256(archive.read_bytes()).hexdigest()[:12],
        "checksums": None,
        "archive": {"src": "shopfront-1.0.tar.gz", "remote_src": False, "strip_components": 1},
    }


def action(tmp_path, args, check_mode=False, pipelining=False):
    return local_action(app_inspect.ActionModule, tmp_path, args, check_mode, pipelining=pipelining)


def run(plugin):
    return run_action(plugin, task_vars={"inventory_hostname": "web1"})


@pytest.mark.parametrize("pipelining", [False, True])
def test_inspects_the_host_and_names_the_release(tmp_path, pipelining):
    project(tmp_path / "src")
    plugin = action(tmp_path, {"python": sys.executable, "root": str(tmp_path / "srv"), "user": USER,
                               "group": GROUP, "source": {"type": "copy", "path": "src"}},
                    check_mode=True, pipelining=pipelining)
    result = run(plugin)
    assert not result.get("failed"), result
    assert result["changed"] is False and result["check_mode"] is True
    assert result["host"]["user"] == USER and result["host"]["current_release"] == ""
    assert result["host"]["directories_to_fix"] == [str(tmp_path / "srv" / d) for d in ("", "releases", "venvs")]
    assert result["release"]["checksums"]["poetry.lock"] == sha1(tmp_path / "src" / "poetry.lock")
    # One command on the host: the helper, on Python's standard input when pipelined, else
    # from the temporary directory, which is gone afterwards.
    [(command, with_input)] = plugin.commands
    # Its arguments are in the program, not on the command line.
    assert command == "%s -I -S %s" % (sys.executable, "-" if pipelining else str(tmp_path / "remote-tmp" / "inspect_app.py"))
    assert with_input is pipelining and plugin.tmp_paths_made == (0 if pipelining else 1)
    assert not os.path.exists(str(tmp_path / "remote-tmp"))


def test_a_git_source_is_named_later(tmp_path):
    result = run(action(tmp_path, {"python": sys.executable, "root": str(tmp_path / "srv"), "user": USER,
                                   "group": GROUP, "source": {"type": "git", "repo": "x", "version": "main"}}))
    assert not result.get("failed"), result
    assert result["release"] is None and result["check_mode"] is False


def test_a_python_that_does_not_run(tmp_path):
    result = run(action(tmp_path, {"python": "/nonexistent/python3", "root": "/srv/shopfront", "user": USER,
                                   "group": GROUP}))
    assert result["failed"]
    assert result["msg"].startswith("Could not inspect web1 with poetry_app_python '/nonexistent/python3': ")
    assert "/nonexistent/python3" in result["msg"][len("Could not inspect web1 with poetry_app_python '/nonexistent/python3': "):]


def test_a_missing_user(tmp_path):
    args = {"python": sys.executable, "root": "/srv/shopfront", "user": "lockstep-nobody", "group": GROUP}
    result = run(action(tmp_path, args))
    assert result["failed"]
    assert result["msg"] == ("poetry_app_user 'lockstep-nobody' does not exist on web1: create it or set "
                             "poetry_app_create_user to true.")
    args["require_user"] = False
    result = run(action(tmp_path, args))
    assert not result.get("failed") and result["host"]["app_user_exists"] is False


def test_bad_arguments(tmp_path):
    result = run(action(tmp_path, {"root": "/srv/shopfront", "user": USER, "group": GROUP}))
    assert result["failed"] and "python" in result["msg"]


def test_an_answer_without_json(tmp_path):
    result = run(action(tmp_path, {"python": "/bin/echo", "root": "/srv/shopfront", "user": USER, "group": GROUP}))
    assert result["failed"]
    assert result["msg"].startswith("Could not inspect web1 with poetry_app_python '/bin/echo': -I -S ")
    assert result["msg"].endswith(" (exit code 0)")


@pytest.mark.parametrize("source, message", [
    ({"type": "copy"}, "path"),
    ({"type": "svn", "path": "src"}, "svn"),
])
def test_a_bad_source(tmp_path, source, message):
    result = run(action(tmp_path, {"python": sys.executable, "root": str(tmp_path / "srv"), "user": USER,
                                   "group": GROUP, "source": source}))
    assert result["failed"] and message in result["msg"], result


def deploy_args(tmp_path, **changes):
    args = {"python": sys.executable, "root": str(tmp_path / "srv"), "user": USER, "group": GROUP,
            "source": {"type": "copy", "path": "src"},
            "plan": {"name": "shopfront", "command": "gunicorn shopfront:app", "env_content": 'TOKEN="s3cret"\n'}}
    args.update(changes)
    return args


def test_plans_the_deploy_after_one_look_at_the_host(tmp_path):
    project(tmp_path / "src")
    plugin = action(tmp_path, deploy_args(tmp_path))
    result = run(plugin)
    assert not result.get("failed"), result
    plan = result["plan"]
    assert plan["release"]["id"] == result["release"]["id"] and plan["release"]["unpack"]
    assert plan["venv"]["build"] and plan["files_to_write"] == ["env", "shopfront.service"] and not plan["idle"]
    # The directories the role lays out come from the one layout; no scratch space outside check mode.
    assert result["host"]["directories_to_fix"] == [str(tmp_path / "srv" / d) for d in ("", "releases", "venvs")]
    assert result["host"]["scratch"] is None and plan["scratch"] is None
    # The environment may hold secrets: compared, never returned.
    assert "s3cret" not in repr(result)
    assert len(plugin.commands) == 1


def test_check_mode_makes_scratch_space(tmp_path):
    project(tmp_path / "src")
    result = run(action(tmp_path, deploy_args(tmp_path), check_mode=True))
    assert not result.get("failed"), result
    scratch = result["plan"]["scratch"]
    try:
        assert os.path.isdir(scratch) and os.path.basename(scratch).startswith("shopfront-deploy.")
        assert result["plan"]["release"]["project_dir"] == os.path.join(scratch, result["release"]["id"])
    finally:
        os.rmdir(scratch)


def test_plans_again_with_what_the_run_learned_without_looking_at_the_host(tmp_path):
    args = deploy_args(tmp_path, source={"type": "git", "repo": "https://git.example/shopfront.git"})
    first = run(action(tmp_path, args))
    assert not first.get("failed"), first
    scratch = first["host"]["scratch"]
    os.rmdir(scratch)
    assert first["plan"]["release"] is None and first["plan"]["deployment"] is None
    commit = "0123456789abcdef0123456789abcdef01234567"
    plugin = action(tmp_path, dict(args, inspection=first, commit=commit))
    fetched = run(plugin)
    assert not fetched.get("failed"), fetched
    assert plugin.commands == []
    assert fetched["release"]["id"] == "0123456789ab" and fetched["plan"]["venv"] is None
    assert fetched["plan"]["release"]["archive"]["src"] == os.path.join(scratch, "release.tar")
    unpacked = run(action(tmp_path, dict(args, inspection=fetched, checksums={"pyproject.toml": "1" * 40, "poetry.lock": "2" * 40})))
    assert not unpacked.get("failed"), unpacked
    assert unpacked["plan"]["venv"]["build"] and unpacked["plan"]["check_lock"]


LOCK_BEFORE = '[[package]]\nname = "Click"\nversion = "8.1.8"\n\n[[package]]\nname = "six"\nversion = "1.17.0"\n'
LOCK_AFTER = '[[package]]\nname = "click"\nversion = "8.1.10"\n\n[[package]]\nname = "h11"\nversion = "0.16.0"\n'


def test_reports_what_the_release_changes_in_the_locked_packages(tmp_path):
    project(tmp_path / "src")
    args = deploy_args(tmp_path)
    first = run(action(tmp_path, args))
    assert not first.get("failed"), first
    plugin = action(tmp_path, dict(args, inspection=first, locks={"before": LOCK_BEFORE, "after": LOCK_AFTER}))
    compared = run(plugin)
    assert plugin.commands == []
    assert compared["changed"]
    assert compared["plan"]["deployment"]["packages"] == {
        "add": {"h11": "0.16.0"}, "remove": {"six": "1.17.0"}, "upgrade": {"click": ["8.1.8", "8.1.10"]}, "downgrade": {}}
    assert compared["diff"]["before"] == "click==8.1.8\nsix==1.17.0\n"
    assert compared["diff"]["after"] == "click==8.1.10\nh11==0.16.0\n"
    assert compared["diff"]["before_header"] == "poetry.lock of no release"
    same = run(action(tmp_path, dict(args, inspection=first, locks={"before": LOCK_AFTER, "after": LOCK_AFTER})))
    assert not same["changed"] and not any(same["plan"]["deployment"]["packages"].values())


def test_bad_settings_fail_before_the_host_is_looked_at(tmp_path):
    plugin = action(tmp_path, deploy_args(tmp_path, plan={"name": "shopfront", "keep_releases": 0}))
    result = run(plugin)
    assert result["failed"] and plugin.commands == []
    assert result["msg"] == ("poetry_app_command or poetry_app_services is required when poetry_app_service_manager is systemd. "
                             "poetry_app_keep_releases must be at least 1 (the current release).")


def test_planning_again_needs_the_settings(tmp_path):
    result = run(action(tmp_path, {"python": sys.executable, "root": "/srv/shopfront", "user": USER, "group": GROUP,
                                   "inspection": {"host": {}}}))
    assert result["failed"] and result["msg"] == "inspection, commit, checksums, locks and repair plan again: they need plan."


def test_a_rollback_does_not_read_the_source(tmp_path):
    args = deploy_args(tmp_path, source={"type": "copy", "path": "missing"})
    args["plan"]["rollback_to"] = "previous"
    result = run(action(tmp_path, args))
    # Packing the missing directory would fail otherwise; the host has nothing to go back to.
    assert result["failed"] and result["msg"] == (
        "poetry_app_rollback_to: there is no previous release to go back to (releases kept: none).")


def test_a_deploy_takes_the_lock_and_a_second_one_stops(tmp_path):
    project(tmp_path / "src")
    first = run(action(tmp_path, deploy_args(tmp_path)))
    assert not first.get("failed"), first
    assert first["lock"]["acquired"] and first["lock"]["path"] == str(tmp_path / ".srv.deploy-lock")
    # The lock file names this run: its process (the test's pytest) is alive.
    second = run(action(tmp_path, deploy_args(tmp_path)))
    assert second["failed"] and second["msg"].startswith("Another run is deploying shopfront to ")
    assert second["lock"]["acquired"] is False
    # Check mode reads without the lock.
    assert not run(action(tmp_path, deploy_args(tmp_path), check_mode=True)).get("failed")


def test_a_lock_left_by_a_run_that_ended_is_taken_over(tmp_path):
    project(tmp_path / "src")
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    holder = dict(_deploy_lock.new_holder(), pid=child.pid, token="left")
    (tmp_path / ".srv.deploy-lock").write_text(json.dumps(holder))
    taken = run(action(tmp_path, deploy_args(tmp_path)))
    assert not taken.get("failed"), taken
    assert taken["lock"]["acquired"] and taken["lock"]["replaced"]["token"] == "left"


@pytest.mark.parametrize("builder, groups, message", [
    ("build1", {"all": ["web1", "build1"]}, None),
    ("controller", {"all": ["web1"]}, None),
    ("buidl1", {"all": ["web1", "build1"]}, "poetry_app_build_on 'buidl1' is not host, controller or a host of the inventory."),
])
def test_builder_is_the_controller_or_a_host_of_the_inventory(tmp_path, builder, groups, message):
    args = deploy_args(tmp_path, source={"type": "copy", "path": "missing"})
    args["plan"]["build_on"] = builder
    result = run_action(action(tmp_path, args), task_vars={"inventory_hostname": "web1", "groups": groups})
    if message:
        assert result["failed"] and result["msg"] == message
    else:
        # Past the check: the missing source is what fails.
        assert "poetry_app_source.path" in result["msg"]


@pytest.mark.parametrize("builder, cache, expected", [
    # The controller ships from its own paths: a '~' there is its user's home.
    ("controller", "~/wheelhouses", os.path.expanduser("~/wheelhouses")),
    ("controller", "", os.path.expanduser("~/.cache/lockstep-poetry/wheelhouses")),
    # A build host's cache is read there, where its modules expand it.
    ("build1", "", "~/.cache/lockstep-poetry/wheelhouses"),
])
def test_build_cache_of_the_builder(tmp_path, builder, cache, expected):
    project(tmp_path / "src")
    args = deploy_args(tmp_path)
    args["plan"].update(build_on=builder, build_cache=cache)
    task_vars = {"inventory_hostname": "web1", "groups": {"all": ["web1", "build1"]}}
    result = run_action(action(tmp_path, args), task_vars=task_vars)
    assert not result.get("failed"), result
    assert posixpath.dirname(result["plan"]["wheelhouse"]["archive"]) == expected
