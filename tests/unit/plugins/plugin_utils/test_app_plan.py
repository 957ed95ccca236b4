# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deploy planner of lockstep.poetry.app, situation by situation: what a deploy does from
what the host has (the answer of the helper inspect_app) and what the source holds."""

import hashlib
import os

import re

import pytest

from ansible_collections.lockstep.poetry.plugins.plugin_utils import _app_plan
from ansible_collections.lockstep.poetry.plugins.plugin_utils._app_layout import app_layout

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
LOCK = "1" * 40
PYPROJECT = "2" * 40
NEW_LOCK = "3" * 40
ENV = '# Environment\nDATABASE_URL="postgres://app:secret@db/app"\n'
SCRATCH = "/tmp/shopfront-deploy.abc123"
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def settings(**changes):
    found = {
        "name": "shopfront", "root": "/srv/shopfront", "user": "shopfront", "group": "shopfront",
        "create_user": True, "source_type": "copy", "service_manager": "systemd", "service_name": "shopfront",
        "command": "gunicorn -b 127.0.0.1:8000 shopfront:app", "env_content": ENV, "restart_policy": "on-failure",
        "unit_options": {}, "healthcheck_url": "http://127.0.0.1:8000/health", "healthcheck_command": [],
        "only": ["main"], "with": [], "without": [], "extras": [], "all_extras": False, "root_install": False,
        "keep_releases": 3, "shared_paths": [], "rollback_to": "", "keep_failed_releases": False,
        "pre_switch_commands": [], "hooks": {}, "services": {}, "listen": "", "handover": "restart", "shared_files": [],
        "break_lock": False, "verify": False, "compile": True,
        "build_on": "host", "build_cache": "/cache", "controller_cache": "/controller-cache",
        "source_path": "/home/me/shopfront",
    }
    found.update(changes)
    return found


def release(release_id="r2", lock=LOCK, pyproject=PYPROJECT):
    """A copy source's release: named and with its checksums, on the controller."""
    return {"id": release_id, "checksums": {"pyproject.toml": pyproject, "poetry.lock": lock},
            "archive": {"src": "/home/me/.cache/lockstep.poetry.app/%s.tar" % release_id, "remote_src": False,
                        "strip_components": 1}}


def archive_release(release_id="a1b2c3d4e5f6"):
    """An archive source's release: its files are known once it is unpacked."""
    return {"id": release_id, "checksums": None,
            "archive": {"src": "shopfront.tar.gz", "remote_src": False, "strip_components": 1}}


def new_host(**changes):
    """A host that never had the application: no accounts, no layout."""
    layout = app_layout("/srv/shopfront", "shopfront")
    found = {
        "user": "root", "app_user_exists": False, "app_group_exists": False, "python": "/usr/bin/python3",
        "python_version": "3.11", "git": True,
        "directories_to_fix": [layout["root"], layout["releases"], layout["venvs"]],
        "current_release": "", "releases": {}, "venvs": {},
        "files": {"env": None, "units": {"shopfront.service": None}, "unit_manifest": None, "restart_marker": False},
        "units": {"shopfront.service": {"active": False, "enabled": False}}, "scratch": None,
    }
    found.update(changes)
    return found


def key(lock=LOCK, wanted=None, release_id="r1"):
    return _app_plan.venv_key(wanted or settings(), lock, "3.11", release_id)


def record(lock=LOCK, pyproject=PYPROJECT):
    return {"lock_sha1": lock, "pyproject_sha1": pyproject, "python": "/usr/bin/python3", "python_version": "3.11",
            "only": ["main"], "with": [], "without": [], "extras": [], "all_extras": False, "root": False, "built_on": "host"}


def managed_file(content, owner, group, mode):
    return {"type": "file", "owner": owner, "group": group, "mode": mode,
            "sha1": hashlib.sha1(content.encode("utf-8")).hexdigest()}


def deployed_host(**changes):
    """A host that runs release r1, complete, with its files as they should be and the service up."""
    wanted = settings()
    unit = _app_plan.unit_files(wanted, _app_plan.layout_of(wanted))["shopfront.service"]
    found = new_host(
        app_user_exists=True, app_group_exists=True, directories_to_fix=[], current_release="r1",
        releases={"r1": {"mtime": 1000.0, "venv": key()}}, venvs={key(): record()},
        files={"env": managed_file(ENV, "shopfront", "shopfront", "0600"),
               "units": {"shopfront.service": managed_file(unit, "root", "root", "0644")},
               "unit_manifest": ["shopfront.service"], "restart_marker": False},
        units={"shopfront.service": {"active": True, "enabled": True}})
    found.update(changes)
    return found


def plan(host, source_release, check_mode=False, **setting_changes):
    wanted = settings(**setting_changes)
    return _app_plan.plan(wanted, host, source_release, check_mode, wanted["env_content"])


def test_fresh_host():
    found = plan(new_host(), release("r1"))
    assert not found["idle"]
    assert found["layout_needed"] and found["create_user"] and found["create_group"]
    assert found["directories"] == ["/srv/shopfront", "/srv/shopfront/releases", "/srv/shopfront/venvs"]
    assert found["become"] is True and found["owner_known"] is True
    assert found["release"]["unpack"] and found["release"]["switch"] and found["release"]["missing"] == []
    assert found["release"]["project_dir"] == "/srv/shopfront/releases/r1"
    assert found["venv"]["key"] == key() and found["venv"]["build"]
    assert found["venv"]["dir"] == "/srv/shopfront/venvs/" + key()
    assert found["venv"]["record_path"] == "/srv/shopfront/venvs/%s/.lockstep-virtualenv.json" % key()
    assert found["venv"]["record"] == record()
    assert found["stage"] and found["check_lock"] and found["run_poetry"]
    assert found["files_to_write"] == ["env", "shopfront.service"]
    assert found["links"] == [
        {"path": "/srv/shopfront/releases/r1/.venv", "target": "../../venvs/" + key(), "previous": None},
        {"path": "/srv/shopfront/current", "target": "releases/r1", "previous": None},
    ]
    assert found["switch"] == {"links": [["/srv/shopfront/releases/r1/.venv", "../../venvs/" + key()],
                                         ["/srv/shopfront/current", "releases/r1"]],
                               "touch": "/srv/shopfront/releases/r1",
                               "record": {"path": "/srv/shopfront/.lockstep-switch.json",
                                          "content": {"from": "", "to": "r1", "token": None}}}
    assert found["switch_back"]["links"] == [["/srv/shopfront/current", None], ["/srv/shopfront/releases/r1/.venv", None]]
    assert found["restart"] and found["activate"]
    assert found["service"] == {
        "manage": True, "units": [{"unit": "shopfront.service", "state": "restarted", "enabled": True}],
        "daemon_reload": True, "rollback": [{"unit": "shopfront.service", "state": "stopped"}],
        "retire": {"units": [], "files": [], "record_before": ["shopfront.service"], "record_after": None}}
    assert found["prune"] == []
    assert found["remove_if_staging_fails"] == ["/srv/shopfront/releases/r1", "/srv/shopfront/venvs/" + key()]
    assert found["deployment"] == {
        "release_id": "r1", "release_path": "/srv/shopfront/releases/r1", "previous_release_id": "",
        "switched": True, "virtualenv": "/srv/shopfront/venvs/" + key(), "virtualenv_key": key(),
        "virtualenv_reused": False, "environment_file": "/srv/shopfront/app.env", "service": "shopfront",
        "units": ["shopfront.service"]}


def test_same_release_again_is_idle():
    found = plan(deployed_host(), release("r1"))
    assert found["idle"]
    assert not (found["stage"] or found["activate"] or found["restart"] or found["files_to_write"] or found["prune"])
    assert found["deployment"]["switched"] is False and found["deployment"]["virtualenv_reused"] is True
    assert found["deployment"]["previous_release_id"] == "r1"


def test_ready_virtualenv_is_checked_against_the_lock_of_a_release_that_links_to_it():
    # The release itself once complete; a code-only release's, not unpacked yet, the current one's.
    assert plan(deployed_host(), release("r1"))["venv"]["check_project"] == "/srv/shopfront/releases/r1"
    assert plan(deployed_host(), release("r2"))["venv"]["check_project"] == "/srv/shopfront/releases/r1"
    # A virtualenv to build has nothing to check yet.
    assert plan(deployed_host(), release("r2", lock="f" * 40))["venv"]["check_project"] is None


def test_virtualenv_that_differs_from_its_lock_is_built_again_where_it_is_and_the_service_restarts():
    host = _app_plan.with_venv_to_repair(deployed_host(), key())
    found = plan(host, release("r1"))
    assert not found["idle"] and found["stage"] and found["venv"]["build"] and found["venv"]["repair"]
    assert not found["release"]["unpack"] and not found["release"]["switch"] and found["links"] == []
    assert found["venv"]["dir"] == "/srv/shopfront/venvs/" + key()
    assert found["restart"] and found["activate"]
    # It serves: whatever fails, it stays.
    assert found["remove_if_staging_fails"] == [] and found["remove_if_activation_fails"] == []


def test_only_a_virtualenv_the_host_has_is_put_right():
    with pytest.raises(_app_plan.PlanError, match="no virtualenv py3.11-nothere to put right"):
        _app_plan.with_venv_to_repair(deployed_host(), "py3.11-nothere")


def test_code_only_release_reuses_the_virtualenv_and_skips_the_lock_check():
    found = plan(deployed_host(), release("r2"))
    assert not found["idle"] and found["release"]["unpack"] and found["release"]["switch"]
    # The key follows the lock, not the release.
    assert found["venv"]["key"] == key() and not found["venv"]["build"]
    # A ready virtualenv was built from this very pyproject.toml and poetry.lock; the inspection
    # looked up the service's program in it.
    assert not found["check_lock"]
    assert not found["run_poetry"]
    assert [link["path"] for link in found["links"]] == ["/srv/shopfront/releases/r2/.venv", "/srv/shopfront/current"]
    assert found["links"][1]["previous"] == "releases/r1"
    assert found["files_to_write"] == [] and found["restart"]
    assert found["service"]["units"] == [{"unit": "shopfront.service", "state": "restarted", "enabled": True}]
    assert not found["service"]["daemon_reload"]
    assert found["service"]["rollback"] == [{"unit": "shopfront.service", "state": "restarted"}]
    # A failed release goes; the virtualenv it reused stays.
    assert found["remove_if_staging_fails"] == ["/srv/shopfront/releases/r2"]
    assert found["remove_if_activation_fails"] == ["/srv/shopfront/releases/r2"]
    assert found["deployment"]["virtualenv_reused"] is True


@pytest.mark.parametrize("source_release, changes, expected", [
    # A new virtualenv (its programs to look up once built); a lock to check.
    (release("r2", lock=NEW_LOCK), {}, True),
    (release("r2", pyproject="4" * 40), {}, True),
    # A code-only release: its programs were looked up in the ready virtualenv by the inspection.
    (release("r2"), {}, False),
    (release("r2"), {"command": "/opt/shopfront/bin/serve"}, False),
    # A release without its lock, known to lack it: the check fails there.
    (release("r2", lock=None), {"command": "/opt/shopfront/bin/serve"}, True),
])
def test_steps_after_the_unpacking_only_when_one_is_needed(source_release, changes, expected):
    assert plan(deployed_host(), source_release, **changes)["check_and_build"] is expected


@pytest.mark.parametrize("host, changes, expected", [
    (deployed_host(), {}, False),
    (deployed_host(), {"verify": True}, True),
    # A virtualenv to build has nothing to check yet.
    (deployed_host(), {"verify": True, "lock": NEW_LOCK}, False),
])
def test_virtualenv_kept_is_checked_before_the_deploy_only_with_poetry_app_verify(host, changes, expected):
    lock = changes.pop("lock", LOCK)
    found = plan(host, release("r2", lock=lock), **changes)
    assert found["check_venv"] is expected and found["prepare"] is expected


# What inspect_app answers of a Debian 12 host's Python (the platform of build once).
DEBIAN_12 = {"free_threaded": False, "glibc": "2.36", "marker_environment": {
    "implementation_name": "cpython", "implementation_version": "3.11.2", "os_name": "posix",
    "platform_machine": "x86_64", "platform_python_implementation": "CPython", "platform_system": "Linux",
    "python_full_version": "3.11.2", "python_version": "3.11", "sys_platform": "linux"}}


def test_builder_takes_the_wheels_before_the_deploy_for_a_virtualenv_to_build():
    found = plan(deployed_host(platform=DEBIAN_12), release("r2", lock=NEW_LOCK), build_on="controller")
    assert found["wheelhouse"] is not None and found["prepare"] and not found["check_venv"]
    # The hosts have no Poetry: the builder reads the lock as it is.
    assert found["venv"]["build"] and not found["run_poetry"] and not found["check_lock"]
    assert found["steps"]["take_wheels"] and found["steps"]["install_wheelhouse"]
    # In check mode the builder's step (build.yml) runs too; nothing is installed on the host.
    checked = plan(deployed_host(platform=DEBIAN_12, scratch=SCRATCH), release("r2", lock=NEW_LOCK), True,
                   build_on="controller")
    assert checked["steps"]["take_wheels"] and not checked["steps"]["install_wheelhouse"]
    # The host builds its own with Poetry: nothing to take.
    each_host = plan(deployed_host(platform=DEBIAN_12), release("r2", lock=NEW_LOCK))
    assert not each_host["prepare"] and each_host["run_poetry"]
    assert not each_host["steps"]["take_wheels"] and not each_host["steps"]["install_wheelhouse"]


def test_a_new_host_is_laid_out_before_the_deploy():
    found = plan(new_host(), release("r1"))
    assert found["layout_needed"] and found["prepare"]


@pytest.mark.parametrize("source_release, changes", [
    (release("r2"), {}),
    # Rolling back to a release that the host keeps.
    (None, {"rollback_to": "r1", "source_type": None}),
])
def test_program_missing_from_a_ready_virtualenv_fails_before_anything_changes(source_release, changes):
    host = dict(deployed_host(current_release="r2", releases={"r1": {"mtime": 1000.0, "venv": key()},
                                                              "r2": {"mtime": 2000.0, "venv": key()}}),
                programs_missing={key(): ["gunicorn"]})
    if source_release:
        host["current_release"] = "r1"
    with pytest.raises(_app_plan.PlanError, match=re.escape(
            "The services run gunicorn, which the virtualenv %s does not provide (is the package that provides it a "
            "dependency in the groups installed?). Nothing was changed." % key())):
        plan(host, source_release, **changes)
    # Nothing is looked up where nothing switches, or in a virtualenv still to build.
    host["current_release"] = "r1"
    assert plan(host, release("r1"))["idle"]
    # A new one is checked by the task that marks it ready (the helper venv_packages).
    assert plan(host, release("r3", lock=NEW_LOCK))["venv"]["build"]


def test_code_only_release_with_a_changed_pyproject_checks_the_lock():
    found = plan(deployed_host(), release("r2", pyproject="4" * 40))
    assert not found["venv"]["build"] and found["check_lock"]


def test_lock_change_builds_a_new_virtualenv():
    found = plan(deployed_host(), release("r2", lock=NEW_LOCK))
    assert found["venv"]["key"] == key(NEW_LOCK) != key()
    assert found["venv"]["build"] and found["check_lock"]
    assert found["remove_if_activation_fails"] == ["/srv/shopfront/releases/r2", "/srv/shopfront/venvs/" + key(NEW_LOCK)]
    assert found["deployment"]["virtualenv_reused"] is False
    # The old virtualenv stays while release r1, which is kept, uses it.
    assert found["prune"] == []


@pytest.mark.parametrize("linked_venv", [None, "py3.11-notready0000"], ids=[
    "half-unpacked-release-without-venv-link", "release-linked-to-a-virtualenv-never-ready"])
def test_an_incomplete_release_is_unpacked_again(linked_venv):
    host = deployed_host()
    host["releases"]["r2"] = {"mtime": 2000.0, "venv": linked_venv}
    if linked_venv:
        host["venvs"][linked_venv] = None
    found = plan(host, release("r2"))
    assert not found["release"]["complete"] and found["release"]["unpack"]
    assert found["links"][0]["path"] == "/srv/shopfront/releases/r2/.venv"


def test_a_complete_release_is_not_unpacked_again():
    host = deployed_host()
    host["releases"]["r2"] = {"mtime": 2000.0, "venv": key()}
    found = plan(host, release("r2"))
    assert found["release"]["complete"] and not found["release"]["unpack"]
    # Switching back to a kept release: only `current` moves.
    assert [link["path"] for link in found["links"]] == ["/srv/shopfront/current"]
    assert not found["stage"] and found["activate"]
    assert found["remove_if_staging_fails"] == []


def test_git_source_before_fetch():
    found = plan(new_host(scratch=SCRATCH, git=False), None, source_type="git")
    assert not found["idle"] and found["release"] is None and found["venv"] is None
    assert found["install_git"] and found["git_dir"] == "/srv/shopfront/.cache/source.git"
    assert found["layout_needed"] and found["hand_scratch"]
    assert not (found["stage"] or found["activate"] or found["prune"])
    assert found["deployment"] is None


def test_git_source_after_fetch_on_a_new_host():
    fetched = _app_plan.git_release(COMMIT, SCRATCH)
    assert fetched == {"id": COMMIT[:12], "checksums": None,
                       "archive": {"src": SCRATCH + "/release.tar", "remote_src": True, "strip_components": 1}}
    found = plan(new_host(scratch=SCRATCH), fetched, source_type="git")
    # Its lock is known once unpacked: the virtualenv is planned then.
    assert found["release"]["unpack"] and found["stage"] and found["venv"] is None
    assert not found["check_lock"] and found["prune"] == []
    unpacked = dict(fetched, checksums={"pyproject.toml": PYPROJECT, "poetry.lock": LOCK})
    again = plan(new_host(scratch=SCRATCH), unpacked, source_type="git")
    assert again["venv"]["key"] == key(release_id=COMMIT[:12]) and again["venv"]["build"] and again["check_lock"]


def test_git_source_after_fetch_of_the_deployed_commit():
    host = deployed_host(scratch=SCRATCH, current_release=COMMIT[:12],
                         releases={COMMIT[:12]: {"mtime": 1000.0, "venv": key()}})
    found = plan(host, _app_plan.git_release(COMMIT, SCRATCH), source_type="git")
    # The key comes from the virtualenv's record; nothing to stage or switch.
    assert found["release"]["complete"] and found["venv"]["key"] == key() and not found["venv"]["build"]
    assert not (found["stage"] or found["activate"])


def test_archive_source_after_unpack_checks_its_lock_and_names_its_virtualenv():
    found = plan(deployed_host(), archive_release())
    assert found["release"]["unpack"] and found["venv"] is None and found["remove_if_staging_fails"] == [
        "/srv/shopfront/releases/a1b2c3d4e5f6"]
    unpacked = dict(archive_release(), checksums={"pyproject.toml": PYPROJECT, "poetry.lock": LOCK})
    again = plan(deployed_host(), unpacked)
    assert again["venv"]["key"] == key() and not again["venv"]["build"] and not again["check_lock"]


def test_a_release_without_a_lock():
    found = plan(deployed_host(), release("r2", lock=None))
    assert found["release"]["missing"] == ["poetry.lock"]
    assert found["venv"] is None and not found["check_lock"] and found["stage"]


def test_check_mode_on_a_new_host():
    found = plan(new_host(scratch=SCRATCH), release("r1"), check_mode=True)
    # The user does not exist yet: nothing becomes it, files in scratch space keep the
    # connecting user.
    assert found["owner_known"] is False and found["become"] is False and not found["hand_scratch"]
    assert found["release"]["project_dir"] == SCRATCH + "/r1"
    assert found["poetry_cache_dir"] == SCRATCH + "/cache/pypoetry"
    assert found["git_dir"] == SCRATCH + "/source.git"
    # systemd cannot answer for a unit that check mode did not write; the new virtualenv does not
    # exist to be checked.
    assert found["service"]["manage"] is False and found["service"]["units"] == []
    assert found["venv"]["build"] and found["run_poetry"]
    assert found["activate"] and not found["idle"]


def test_check_mode_with_nothing_to_do():
    found = plan(deployed_host(scratch=SCRATCH), release("r1"), check_mode=True)
    assert found["idle"] and found["owner_known"] and found["become"]
    # Nothing runs in scratch space, which check mode makes: it stays the connecting user's.
    assert not found["layout_needed"] and not found["hand_scratch"]
    # A release to check is unpacked there, as the application's user.
    found = plan(deployed_host(scratch=SCRATCH), release("r2"), check_mode=True)
    assert found["hand_scratch"] and found["layout_needed"] and found["release"]["project_dir"] == SCRATCH + "/r2"


def test_pending_restart_marker_from_a_failed_run():
    host = deployed_host()
    host["files"]["restart_marker"] = True
    found = plan(host, release("r1"))
    assert not found["idle"] and found["files_to_write"] == [] and found["links"] == []
    assert found["restart"] and found["activate"] and found["clear_marks"] == ["/srv/shopfront/.restart-needed"]
    assert found["service"]["units"] == [{"unit": "shopfront.service", "state": "restarted", "enabled": True}]
    assert found["service"]["daemon_reload"]


def test_changed_unit_without_a_new_release():
    found = plan(deployed_host(), release("r1"), command="gunicorn -w 4 shopfront:app")
    assert found["files_to_write"] == ["shopfront.service"] and found["links"] == [] and not found["stage"]
    assert found["restart"] and found["service"]["daemon_reload"] and found["clear_marks"] == ["/srv/shopfront/.restart-needed"]
    assert found["switch"]["links"] == [] and found["deployment"]["switched"] is False


def test_changed_environment_without_a_new_release():
    found = plan(deployed_host(), release("r1"), env_content=ENV + 'DEBUG="1"\n')
    assert found["files_to_write"] == ["env"]
    assert found["restart"] and not found["service"]["daemon_reload"]


def test_environment_file_with_the_wrong_mode():
    host = deployed_host()
    host["files"]["env"]["mode"] = "0644"
    assert plan(host, release("r1"))["files_to_write"] == ["env"]


def test_settings_that_key_another_virtualenv():
    found = plan(deployed_host(), release("r1"), extras=["postgres"])
    assert not found["release"]["unpack"] and found["stage"]
    assert found["venv"]["key"] != key() and found["venv"]["build"]
    assert found["links"] == [{"path": "/srv/shopfront/releases/r1/.venv", "target": found["venv"]["link_target"],
                               "previous": "../../venvs/" + key()}]
    # The old virtualenv is no longer used by any kept release.
    assert found["prune"] == ["/srv/shopfront/venvs/" + key()]


def test_pruning_keeps_n_releases_and_the_virtualenvs_they_use():
    old = key("5" * 40)
    oldest = key("6" * 40)
    host = deployed_host(
        current_release="r3",
        releases={"r1": {"mtime": 1000.0, "venv": oldest}, "r2": {"mtime": 2000.0, "venv": old},
                  "r3": {"mtime": 3000.0, "venv": key()}},
        venvs={oldest: record("6" * 40), old: record("5" * 40), key(): record(), "py3.11-orphan000000": None})
    found = plan(host, release("r4"), keep_releases=3)
    # r4 (this run's) and the two newest stay; r2's virtualenv stays in use, the others go.
    assert found["prune"] == ["/srv/shopfront/releases/r1", "/srv/shopfront/venvs/" + oldest,
                              "/srv/shopfront/venvs/py3.11-orphan000000"]
    assert plan(host, release("r4"), keep_releases=1)["prune"] == [
        "/srv/shopfront/releases/r1", "/srv/shopfront/releases/r2", "/srv/shopfront/releases/r3"] + sorted(
        "/srv/shopfront/venvs/" + venv for venv in (oldest, old, "py3.11-orphan000000"))


def test_current_link_that_points_nowhere():
    # `current` names a release that is not there (removed by hand).
    host = deployed_host(current_release="gone")
    found = plan(host, release("r1"))
    assert found["release"]["switch"] and found["release"]["complete"]
    assert found["links"] == [{"path": "/srv/shopfront/current", "target": "releases/r1", "previous": "releases/gone"}]
    assert found["activate"] and not found["idle"]


def test_stopped_service_is_started_without_a_restart():
    found = plan(deployed_host(units={"shopfront.service": {"active": False, "enabled": True}}), release("r1"))
    assert found["activate"] and not found["restart"]
    assert found["service"]["units"] == [{"unit": "shopfront.service", "state": "started", "enabled": True}]


def test_without_systemd():
    host = deployed_host(units=None)
    host["files"].update(units={}, unit_manifest=None)
    found = plan(host, release("r1"), service_manager="none", healthcheck_url="")
    assert found["idle"] and found["units"] == {} and found["layout"]["unit_file"] == ""
    assert found["service"]["manage"] is False and found["deployment"]["service"] is None
    found = plan(host, release("r2"), service_manager="none", healthcheck_url="")
    assert found["activate"] and not found["restart"] and not found["service"]["units"]


def test_shared_paths_are_laid_out_and_linked():
    wanted = settings(shared_paths=["var/log", "media"])
    assert _app_plan.directories(wanted, _app_plan.layout_of(wanted))[3:] == [
        "/srv/shopfront/shared", "/srv/shopfront/shared/var/log", "/srv/shopfront/shared/media"]
    assert _app_plan.shared_links(wanted["shared_paths"]) == [
        {"path": "var/log", "target": "../../../shared/var/log"}, {"path": "media", "target": "../../shared/media"}]


def test_the_project_installed_keys_a_virtualenv_per_release():
    found = plan(deployed_host(), release("r2"), root_install=True)
    assert found["venv"]["key"] == key(wanted=settings(root_install=True), release_id="r2")
    assert found["venv"]["build"]


def test_virtualenv_keys_stay_those_of_earlier_versions():
    # Computed by the role's YAML before the planner: hosts deployed then reuse their virtualenvs.
    wanted = settings(extras=["b", "a"])
    assert _app_plan.venv_key(wanted, "0123456789abcdef0123456789abcdef01234567", "3.11", "r1") == "py3.11-9251facbe886"


@pytest.mark.parametrize("number, command, options", [
    (0, "gunicorn  -b 127.0.0.1:8000 'shopfront:app'", {}),
    (1, ["uvicorn", "a b", 'x"y', "50%", "$HOME", "back\\slash"], {"LimitNOFILE": 4096, "KillSignal": "SIGINT"}),
    (2, "/usr/bin/env python -m http.server", {}),
], ids=["string-command", "list-command-quoted-for-systemd", "program-with-a-path"])
def test_unit_is_the_one_the_role_template_wrote(number, command, options):
    # The fixtures were rendered by the role's template before the unit moved into the planner;
    # PYTHONUNBUFFERED came later (and its comment).
    wanted = settings(command=command, unit_options=options, group="web")
    with open(os.path.join(FIXTURES, "app-unit-%d.service" % number)) as handle:
        assert _app_plan.unit_files(wanted, _app_plan.layout_of(wanted)) == {"shopfront.service": handle.read()}


@pytest.mark.parametrize("changes, message", [
    ({"command": ""}, "poetry_app_command or poetry_app_services is required when poetry_app_service_manager is systemd."),
    ({"healthcheck_command": ["true"]}, "Set poetry_app_healthcheck_url or poetry_app_healthcheck_command, not both."),
    ({"healthcheck_url": "127.0.0.1:8000/health"}, "poetry_app_healthcheck_url must be an http:// or https:// URL"),
    ({"healthcheck_url": "http:///health"}, "poetry_app_healthcheck_url must be an http:// or https:// URL"),
    ({"service_manager": "none", "command": ""}, "With poetry_app_service_manager none nothing serves"),
    ({"with": ["dev"]}, "Poetry ignores poetry_app_with and poetry_app_without when poetry_app_only is set"),
    ({"extras": ["a"], "all_extras": True}, "Set poetry_app_extras or poetry_app_all_extras, not both."),
    ({"keep_releases": 0}, "poetry_app_keep_releases must be at least 1"),
    ({"shared_paths": ["../etc"]}, "poetry_app_shared_paths must be relative paths"),
    ({"shared_paths": ["/var/log"]}, "poetry_app_shared_paths must be relative paths"),
    ({"shared_paths": ["a/./b"]}, "poetry_app_shared_paths must be relative paths"),
    ({"root": "srv/shopfront"}, "poetry_app_root must be an absolute path."),
    ({"root": "/"}, "poetry_app_root must be an absolute path."),
], ids=["no-command-under-systemd", "two-health-checks", "url-without-a-scheme", "url-without-a-host",
        "url-check-without-a-service", "only-with-with",
        "extras-and-all-extras", "keep-no-release", "shared-path-outside", "shared-path-absolute",
        "shared-path-with-dot", "relative-root", "root-is-slash"])
def test_input_problems(changes, message):
    with pytest.raises(_app_plan.PlanError, match="^" + message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        _app_plan.check_input(settings(**changes))


def test_every_input_problem_at_once():
    problems = _app_plan.input_problems(settings(command="", keep_releases=0))
    assert len(problems) == 2
    assert _app_plan.input_problems(settings()) == []


@pytest.mark.parametrize("check_mode, source_type, wanted", [
    (False, "copy", False), (True, "copy", True), (False, "git", True), (False, "archive", False)])
def test_scratch_space(check_mode, source_type, wanted):
    assert _app_plan.needs_scratch(settings(source_type=source_type), check_mode) is wanted


def kept_releases_host(**changes):
    """A host that runs r3 and keeps r1 and r2, each complete, r2 on another lock."""
    other = key("5" * 40)
    host = deployed_host(
        current_release="r3",
        releases={"r1": {"mtime": 1000.0, "venv": key()}, "r2": {"mtime": 2000.0, "venv": other},
                  "r3": {"mtime": 3000.0, "venv": key()}},
        venvs={key(): record(), other: record("5" * 40)})
    host.update(changes)
    return host


def test_rollback_to_previous_takes_the_release_switched_to_before_the_current_one():
    found = plan(kept_releases_host(), None, rollback_to="previous", source_type=None)
    assert found["release"]["id"] == "r2" and found["release"]["rollback"]
    assert not found["release"]["unpack"] and not found["stage"] and not found["venv"]["build"]
    assert found["venv"]["key"] == key("5" * 40)
    assert found["links"] == [{"path": "/srv/shopfront/current", "target": "releases/r2", "previous": "releases/r3"}]
    # Its virtualenv is ready: the inspection looked up the programs in it.
    assert found["restart"] and found["activate"] and not found["run_poetry"]
    # A release the host kept is never removed when the rollback to it fails.
    assert found["remove_if_activation_fails"] == [] and found["mark_failed"] is None
    assert found["prune"] == []


def test_rollback_to_previous_leaves_out_failed_and_incomplete_releases():
    host = kept_releases_host()
    host["releases"]["r2"]["failed"] = True
    assert plan(host, None, rollback_to="previous", source_type=None)["release"]["id"] == "r1"
    host["releases"]["r1"]["venv"] = None
    with pytest.raises(_app_plan.PlanError, match=r"^poetry_app_rollback_to: there is no previous release to go back "
                                                  r"to \(releases kept: r3, r2, r1\)\.$"):
        plan(host, None, rollback_to="previous", source_type=None)


def test_rollback_in_check_mode_needs_no_scratch_space():
    found = plan(kept_releases_host(), None, check_mode=True, rollback_to="previous", source_type=None)
    assert found["release"]["id"] == "r2" and found["links"][0]["target"] == "releases/r2"
    assert found["scratch"] is None and found["git_dir"] is None and found["poetry_cache_dir"] is None


def test_rollback_to_a_release_id():
    found = plan(kept_releases_host(), None, rollback_to="r1", source_type=None)
    assert found["release"]["id"] == "r1" and found["venv"]["key"] == key()
    # Back to the current release: nothing to do.
    assert plan(kept_releases_host(), None, rollback_to="r3", source_type=None)["idle"]


@pytest.mark.parametrize("wanted, message", [
    ("r0", r"release r0 is not on the host: it was pruned or never deployed there \(releases kept: r3, r2, r1\)"),
    ("r4", r"release r4 is not on the host"),
], ids=["rollback-to-a-pruned-release", "rollback-to-an-unknown-release"])
def test_rollback_to_a_release_the_host_does_not_keep(wanted, message):
    with pytest.raises(_app_plan.PlanError, match="^poetry_app_rollback_to: " + message):
        plan(kept_releases_host(), None, rollback_to=wanted, source_type=None)


def test_rollback_to_a_release_whose_virtualenv_is_gone():
    host = kept_releases_host()
    del host["venvs"][key("5" * 40)]
    with pytest.raises(_app_plan.PlanError, match=r"release r2 is incomplete \(its virtualenv is gone"):
        plan(host, None, rollback_to="r2", source_type=None)


def test_keep_failed_releases_marks_instead_of_removing():
    found = plan(deployed_host(), release("r2", lock=NEW_LOCK), keep_failed_releases=True)
    assert found["remove_if_activation_fails"] == []
    assert found["mark_failed"] == "/srv/shopfront/releases/r2/.lockstep-failed"
    # A failed release deployed again, and passing, loses its mark.
    host = kept_releases_host()
    host["releases"]["r2"]["failed"] = True
    found = plan(host, release("r2", lock="5" * 40))
    assert found["release"]["failed"] is True
    assert found["clear_marks"] == ["/srv/shopfront/releases/r2/.lockstep-failed"]


def test_a_source_or_a_rollback_is_needed():
    with pytest.raises(_app_plan.PlanError, match="poetry_app_source is required, unless poetry_app_rollback_to"):
        _app_plan.check_input(settings(source_type=None))
    _app_plan.check_input(settings(source_type=None, rollback_to="previous"))


def test_a_rollback_needs_no_scratch_space():
    assert not _app_plan.needs_scratch(settings(source_type=None, rollback_to="previous"), True)


def test_hooks_run_where_their_step_happens():
    wanted = {"after_stage": ["migrate"], "before_switch": [["warm", "up"]], "after_switch": ["notify"],
              "after_rollback": ["page"]}
    found = plan(deployed_host(), release("r2"), hooks=wanted, pre_switch_commands=["collectstatic"])
    assert found["hooks"] == {
        "before_switch": [{"hook": "after_stage", "command": "migrate"},
                          {"hook": "before_switch", "command": "collectstatic"},
                          {"hook": "before_switch", "command": ["warm", "up"]}],
        "after_switch": [{"hook": "after_switch", "command": "notify"}],
        "after_rollback": [{"hook": "after_rollback", "command": "page"}],
    }
    # Nothing staged or switched: no hook before the switch.
    found = plan(deployed_host(), release("r1"), hooks=wanted, pre_switch_commands=["collectstatic"],
                 env_content=ENV + 'DEBUG="1"\n')
    assert found["hooks"]["before_switch"] == []
    # A rollback asked for stages nothing and runs its after_rollback hooks after the switch.
    found = plan(kept_releases_host(), None, rollback_to="previous", source_type=None, hooks=wanted,
                 pre_switch_commands=["collectstatic"])
    assert found["hooks"]["before_switch"] == []
    assert [command["hook"] for command in found["hooks"]["after_switch"]] == ["after_switch", "after_rollback"]


# --- Several services per release (poetry_app_services) -------------------------------------

SERVICES = {
    "web": {"command": "gunicorn shopfront:app", "listen": "127.0.0.1:8000"},
    "worker": {"command": ["python", "-m", "shopfront.worker"], "unit_options": {"Nice": 5}},
    "cleanup": {"command": "shopfront-cleanup", "schedule": "hourly"},
}
# The web service listens where the health check points (127.0.0.1:8000): a new release of it is
# started beside the running one and checked before the switch (the candidate's units).
SERVICE_UNITS = ["shopfront-cleanup.service", "shopfront-cleanup.timer", "shopfront-web-candidate.service",
                 "shopfront-web-candidate.socket", "shopfront-web.service", "shopfront-web.socket",
                 "shopfront-worker.service"]


def services_host(units_up=True, **changes):
    """A host that runs release r1 with the services of SERVICES, their units as they should be."""
    wanted = settings(command="", services=SERVICES)
    units = _app_plan.unit_files(wanted, _app_plan.layout_of(wanted))
    up = {"active": units_up, "enabled": units_up}
    host = deployed_host(units={name: dict(up) for name in units})
    host["units"]["shopfront-cleanup.service"] = {"active": False, "enabled": False}
    host["files"].update(units={name: managed_file(content, "root", "root", "0644") for name, content in units.items()},
                         unit_manifest=sorted(units))
    host.update(changes)
    return host


def services_plan(host, source_release, **changes):
    return plan(host, source_release, **dict({"command": "", "services": SERVICES}, **changes))


def test_services_each_get_their_units():
    wanted = settings(command="", services=SERVICES)
    units = _app_plan.unit_files(wanted, _app_plan.layout_of(wanted))
    assert sorted(units) == SERVICE_UNITS
    web = units["shopfront-web.service"]
    assert "Requires=shopfront-web.socket\nAfter=shopfront-web.socket\n" in web
    assert "ExecStart=/srv/shopfront/current/.venv/bin/gunicorn shopfront:app\n" in web
    assert "Type=exec\n" in web and "Restart=on-failure\n" in web and "WantedBy=multi-user.target\n" in web
    assert "Description=shopfront web (deployed by lockstep.poetry.app)\n" in web
    assert "ListenStream=127.0.0.1:8000\n" in units["shopfront-web.socket"]
    assert "WantedBy=sockets.target\n" in units["shopfront-web.socket"]
    assert "Nice=5\n" in units["shopfront-worker.service"] and "Requires=" not in units["shopfront-worker.service"]
    # A scheduled job runs once per start of its timer, and is not started at boot by itself.
    job = units["shopfront-cleanup.service"]
    assert "Type=oneshot\n" in job and "Restart=" not in job and "[Install]" not in job
    assert "OnCalendar=hourly\nPersistent=true\n" in units["shopfront-cleanup.timer"]
    assert "WantedBy=timers.target\n" in units["shopfront-cleanup.timer"]
    # The candidate runs the release `candidate` points to, on a socket only root reaches, and
    # is neither restarted nor started at boot.
    candidate = units["shopfront-web-candidate.service"]
    assert "WorkingDirectory=/srv/shopfront/candidate\n" in candidate
    assert "ExecStart=/srv/shopfront/candidate.venv/bin/gunicorn shopfront:app\n" in candidate
    assert 'Environment="VIRTUAL_ENV=/srv/shopfront/candidate.venv"\n' in candidate
    # Every service runs with unbuffered output, the candidate as the service it stands in for.
    assert all('Environment="PYTHONUNBUFFERED=1"\nEnvironmentFile=' in text
               for name, text in units.items() if name.endswith(".service") and "-proxy" not in name)
    assert "Requires=shopfront-web-candidate.socket\n" in candidate
    assert "Restart=" not in candidate and "[Install]" not in candidate
    assert ("ListenStream=/run/shopfront-web-candidate.sock\nSocketMode=0600\n"
            in units["shopfront-web-candidate.socket"])
    assert "[Install]" not in units["shopfront-web-candidate.socket"]


def test_unix_socket_belongs_to_the_application():
    wanted = settings(command="gunicorn shopfront:app", listen="/run/shopfront/web.sock")
    socket = _app_plan.unit_files(wanted, _app_plan.layout_of(wanted))["shopfront.socket"]
    assert "ListenStream=/run/shopfront/web.sock\nSocketUser=shopfront\nSocketGroup=shopfront\nSocketMode=0660\n" in socket


def test_services_on_a_fresh_host():
    host = new_host(units={}, files={"env": None, "units": {}, "unit_manifest": None, "restart_marker": False})
    found = services_plan(host, release("r1"))
    assert found["files_to_write"] == ["env"] + SERVICE_UNITS
    assert found["programs"] == ["gunicorn", "python", "shopfront-cleanup"] and found["run_poetry"]
    # Sockets before their services; the job is left to its timer.
    assert found["service"]["units"] == [
        {"unit": "shopfront-cleanup.timer", "state": "restarted", "enabled": True},
        {"unit": "shopfront-web.socket", "state": "started", "enabled": True},
        {"unit": "shopfront-web.service", "state": "restarted", "enabled": True},
        {"unit": "shopfront-worker.service", "state": "restarted", "enabled": True},
    ]
    assert found["service"]["daemon_reload"]
    # Nothing to go back to: everything stops, sockets too (a connection would start the service).
    assert found["service"]["rollback"] == [
        {"unit": "shopfront-cleanup.timer", "state": "stopped"},
        {"unit": "shopfront-web.service", "state": "stopped"},
        {"unit": "shopfront-web.socket", "state": "stopped"},
        {"unit": "shopfront-worker.service", "state": "stopped"},
    ]
    assert found["service"]["retire"] == {"units": [], "files": [], "record_before": SERVICE_UNITS, "record_after": None}
    assert found["deployment"]["units"] == SERVICE_UNITS


def test_services_unchanged_are_idle():
    assert services_plan(services_host(), release("r1"))["idle"]


def test_code_only_switch_restarts_the_long_running_services_only():
    found = services_plan(services_host(), release("r2"))
    # First checked beside the running release.
    assert found["precheck"] == {
        "service": "shopfront-web",
        "candidates": [{"unit": "shopfront-web-candidate.service", "socket": "/run/shopfront-web-candidate.sock",
                        "units": ["shopfront-web-candidate.service", "shopfront-web-candidate.socket"]}],
        "units": ["shopfront-web-candidate.service", "shopfront-web-candidate.socket"],
        # Checked only: it stops once checked, whatever the outcome.
        "checked_only": ["shopfront-web-candidate.service", "shopfront-web-candidate.socket"],
        "link": {"links": [["/srv/shopfront/candidate", "releases/r2"],
                           ["/srv/shopfront/candidate.venv", "venvs/" + key()]], "touch": None},
        "unlink": {"links": [["/srv/shopfront/candidate", None], ["/srv/shopfront/candidate.venv", None]], "touch": None},
        # Gunicorn restarts behind its socket (handover restart, the default).
        "handover": None,
    }
    assert found["files_to_write"] == [] and not found["service"]["daemon_reload"]
    # The socket stays up, holding connections while the service restarts; the timer's next
    # run starts the job from the new release.
    assert found["service"]["units"] == [
        {"unit": "shopfront-web.service", "state": "restarted", "enabled": True},
        {"unit": "shopfront-worker.service", "state": "restarted", "enabled": True},
    ]
    assert found["service"]["rollback"] == [
        {"unit": "shopfront-web.service", "state": "restarted"},
        {"unit": "shopfront-worker.service", "state": "restarted"},
    ]


def test_stopped_timer_and_socket_are_started():
    host = services_host()
    host["units"]["shopfront-cleanup.timer"] = {"active": False, "enabled": True}
    host["units"]["shopfront-web.socket"] = {"active": True, "enabled": False}
    found = services_plan(host, release("r1"))
    assert not found["restart"] and found["activate"]
    assert found["service"]["units"] == [
        {"unit": "shopfront-cleanup.timer", "state": "started", "enabled": True},
        {"unit": "shopfront-web.socket", "state": "started", "enabled": True},
    ]


def test_new_listen_address_restarts_the_socket_with_its_service_stopped():
    changed = dict(SERVICES, web={"command": "gunicorn shopfront:app", "listen": "127.0.0.1:8001"})
    found = services_plan(services_host(), release("r1"), services=changed)
    assert found["files_to_write"] == ["shopfront-web.socket"]
    assert found["service"]["units"] == [
        {"unit": "shopfront-web.service", "state": "stopped", "enabled": True},
        {"unit": "shopfront-web.socket", "state": "restarted", "enabled": True},
        {"unit": "shopfront-web.service", "state": "restarted", "enabled": True},
        {"unit": "shopfront-worker.service", "state": "restarted", "enabled": True},
    ]


def test_service_removed_from_the_mapping_is_retired():
    fewer = dict((name, spec) for name, spec in SERVICES.items() if name != "cleanup")
    found = services_plan(services_host(), release("r1"), services=fewer)
    assert not found["idle"]
    assert found["service"]["retire"] == {
        "units": ["shopfront-cleanup.service", "shopfront-cleanup.timer"],
        "files": ["/etc/systemd/system/shopfront-cleanup.service", "/etc/systemd/system/shopfront-cleanup.timer"],
        "record_before": None,
        "record_after": ["shopfront-web-candidate.service", "shopfront-web-candidate.socket", "shopfront-web.service",
                         "shopfront-web.socket", "shopfront-worker.service"],
    }
    assert found["service"]["daemon_reload"]


def test_host_deployed_before_the_record_moves_to_services():
    # The unit of poetry_app_command, written before the role recorded its units, is retired.
    host = deployed_host()
    host["files"]["unit_manifest"] = None
    found = services_plan(host, release("r1"))
    assert found["service"]["retire"]["units"] == ["shopfront.service"]
    assert found["service"]["retire"]["record_before"] == sorted(SERVICE_UNITS + ["shopfront.service"])
    assert found["service"]["retire"]["record_after"] == SERVICE_UNITS


def test_host_deployed_before_the_record_keeps_its_unit():
    host = deployed_host()
    host["files"]["unit_manifest"] = None
    found = plan(host, release("r1"))
    # Recorded once, nothing else to do.
    assert not found["idle"] and found["service"]["retire"]["record_before"] == ["shopfront.service"]
    assert found["service"]["retire"]["units"] == [] and found["service"]["units"] == []


@pytest.mark.parametrize("changes, message", [
    ({"services": {"web.1": {"command": "gunicorn"}}},
     "poetry_app_services.web.1: a service's name names its systemd unit (shopfront-web.1)"),
    ({"services": {"web": {"command": "gunicorn", "listen": "8000"}, "api": {"command": "uvicorn", "listen": "127.0.0.1:8000"}}},
     "shopfront-api and shopfront-web listen on the same socket (8000)."),
    ({"services": {"a": {"command": "x", "listen": "/run/a.sock"}, "b": {"command": "y", "listen": "/run/a.sock"}}},
     "shopfront-a and shopfront-b listen on the same socket (/run/a.sock)."),
    ({"services": {"cleanup": {"command": "x", "schedule": ""}}},
     "poetry_app_services.cleanup: a timer needs a schedule"),
    ({"services": {"cleanup": {"command": "x", "timer_options": {"RandomizedDelaySec": 60}}}},
     "poetry_app_services.cleanup: timer_options without a schedule"),
    ({"services": {"cleanup": {"command": "x", "schedule": "hourly", "listen": "8000"}}},
     "poetry_app_services.cleanup: a timer's job does not listen"),
    ({"services": {"web": {"command": "x", "listen": "localhost:http"}}},
     "shopfront-web: listen 'localhost:http' is not host:port, a port or a Unix socket's absolute path."),
    ({"services": {"web": {"command": "x", "listen": "70000"}}},
     "shopfront-web: listen '70000' is not host:port"),
    ({"services": {"web": {"command": "x", "port": 8000}}},
     "poetry_app_services.web: unknown key port (known: command, listen, handover, schedule, unit_options, timer_options)."),
    ({"services": {"web": {"listen": "8000"}}}, "poetry_app_services.web needs a command."),
    ({"services": {"web": "gunicorn app:app"}}, "poetry_app_services.web must be a mapping with at least a command."),
    ({"services": {"web": {"command": "x"}}, "command": "gunicorn app:app"},
     "Set poetry_app_services or poetry_app_command, not both."),
    ({"services": {"web": {"command": "x"}}, "command": "", "listen": "8000"},
     "poetry_app_listen goes with poetry_app_command"),
    ({"command": "", "listen": "8000"}, "poetry_app_listen needs poetry_app_command"),
    ({"services": {"web": {"command": "x"}}, "command": "", "service_manager": "none", "healthcheck_url": ""},
     "poetry_app_services and poetry_app_listen need poetry_app_service_manager systemd."),
    ({"services": {"web-candidate": {"command": "x"}}}, "poetry_app_services.web-candidate: names ending in -candidate"),
    ({"services": {"worker": {"command": "python -c 'import a\nimport b'"}}},
     "shopfront-worker: a command given as a string is one line"),
], ids=["name-not-a-unit-name", "same-port", "same-unix-socket", "timer-without-schedule", "timer-options-without-schedule",
        "timer-that-listens", "listen-not-an-address", "listen-port-out-of-range", "unknown-key", "no-command",
        "not-a-mapping", "services-and-command", "listen-with-services", "listen-without-command",
        "services-without-systemd", "reserved-name", "string-command-on-two-lines"])
def test_service_problems(changes, message):
    problems = _app_plan.input_problems(settings(**dict({"command": ""}, **changes)))
    assert any(problem.startswith(message) for problem in problems), problems


@pytest.mark.parametrize("url, checked", [
    ("http://127.0.0.1:8000/health", "shopfront-web"),
    ("http://localhost:8000/health", None),
    ("http://127.0.0.1:8001/health", None),
    ("http://127.0.0.1/health", None),
    ("", None),
], ids=["where-web-listens", "another-host", "another-port", "default-port", "no-url"])
def test_service_checked_before_the_switch(url, checked):
    found = _app_plan.checked_before_switch(settings(command="", services=SERVICES, healthcheck_url=url))
    assert (found and found["unit"]) == checked


def test_every_address_listens_where_the_check_points():
    wanted = settings(command="gunicorn shopfront:app", listen="8000", healthcheck_url="http://127.0.0.1:8000/")
    assert _app_plan.checked_before_switch(wanted)["unit"] == "shopfront"


def test_no_precheck_in_check_mode_or_without_a_switch():
    assert services_plan(services_host(scratch=SCRATCH), release("r2"), check_mode=True)["precheck"] is None
    assert services_plan(services_host(), release("r1"), env_content=ENV + "A=1\n")["precheck"] is None
    # A command checks health after the switch, as before.
    assert services_plan(services_host(), release("r2"), healthcheck_url="",
                         healthcheck_command=["true"])["precheck"] is None


def test_argument_with_a_line_break_stays_on_the_unit_line():
    wanted = settings(command="", services={"worker": {"command": ["python", "-c", "import time\nwhile True:\ttime.sleep(1)"]}})
    unit = _app_plan.unit_files(wanted, _app_plan.layout_of(wanted))["shopfront-worker.service"]
    assert ('ExecStart="/srv/shopfront/current/.venv/bin/python" "-c" "import time\\nwhile True:\\ttime.sleep(1)"\n'
            in unit)


def test_listen_addresses():
    assert _app_plan.listen_address("127.0.0.1:8000") == ("127.0.0.1", 8000)
    assert _app_plan.listen_address("[::1]:8000") == ("[::1]", 8000)
    assert _app_plan.listen_address("8000") == ("", 8000)
    assert _app_plan.listen_address("/run/app.sock") == ("", "/run/app.sock")
    assert _app_plan.listen_address("0") is None and _app_plan.listen_address("app.sock") is None


# --- Shared files (poetry_app_shared_files) ---------------------------------------------------

def test_shared_files_are_linked_and_their_directories_made():
    found = plan(new_host(), release("r1"), shared_paths=["var/uploads"], shared_files=["config/app.toml", "app.ini"])
    assert found["shared_links"] == [
        {"path": "var/uploads", "target": "../../../shared/var/uploads"},
        {"path": "config/app.toml", "target": "../../../shared/config/app.toml"},
        {"path": "app.ini", "target": "../../shared/app.ini"},
    ]
    wanted = settings(shared_paths=["var/uploads"], shared_files=["config/app.toml", "app.ini"])
    assert _app_plan.directories(wanted, _app_plan.layout_of(wanted))[3:] == [
        "/srv/shopfront/shared", "/srv/shopfront/shared/var/uploads", "/srv/shopfront/shared/config"]
    assert _app_plan.shared_files(wanted, _app_plan.layout_of(wanted)) == [
        "/srv/shopfront/shared/config/app.toml", "/srv/shopfront/shared/app.ini"]


def test_missing_shared_file_fails_before_anything_changes():
    with pytest.raises(_app_plan.PlanError, match=r"^poetry_app_shared_files: /srv/shopfront/shared/app.ini is not "):
        plan(deployed_host(shared_files_missing=["/srv/shopfront/shared/app.ini"]), release("r2"), shared_files=["app.ini"])


@pytest.mark.parametrize("changes, message", [
    ({"shared_files": ["../app.ini"]}, "poetry_app_shared_files must be relative paths"),
    ({"shared_files": ["var/log"], "shared_paths": ["var/log"]}, "A path is in poetry_app_shared_paths or in"),
], ids=["outside-the-release", "file-and-directory"])
def test_shared_file_problems(changes, message):
    assert any(problem.startswith(message) for problem in _app_plan.input_problems(settings(**changes)))


# --- What a release changes in the locked packages ----------------------------------------------

def test_package_changes_between_two_locks():
    before = {"flask": "3.0.0", "click": "8.1.8", "idna": "3.10", "six": "1.17.0", "tzdata": "2026.6", "old": "1.0"}
    after = {"flask": "3.0.0", "click": "8.1.10", "idna": "3.9", "six": "1.17.0", "tzdata": "2026.6rc1", "new": "0.1"}
    assert _app_plan.package_changes(before, after) == {
        "add": {"new": "0.1"},
        "remove": {"old": "1.0"},
        # PEP 440's order: 8.1.10 after 8.1.8, a release candidate before its release.
        "upgrade": {"click": ["8.1.8", "8.1.10"]},
        "downgrade": {"idna": ["3.10", "3.9"], "tzdata": ["2026.6", "2026.6rc1"]},
    }


def test_package_changes_of_versions_outside_pep_440():
    assert _app_plan.package_changes({"a": "1.0-custom.2"}, {"a": "1.0-custom.10"})["upgrade"] == {
        "a": ["1.0-custom.2", "1.0-custom.10"]}


def test_locks_to_compare():
    found = plan(deployed_host(), release("r2"))
    assert found["compare_locks"] == {"before": "/srv/shopfront/releases/r1/poetry.lock",
                                      "after": "/srv/shopfront/releases/r2/poetry.lock"}
    assert plan(new_host(), release("r1"))["compare_locks"]["before"] is None
    assert plan(deployed_host(), release("r1"))["compare_locks"] is None


# --- A run killed halfway -------------------------------------------------------------------------

RUN_LOCK = {"path": "/srv/.shopfront.deploy-lock", "acquired": True, "holder": {"token": "this-run"}}


def test_switch_is_recorded_with_the_runs_lock():
    found = plan(deployed_host(lock=RUN_LOCK), release("r2"))
    assert found["switch"]["record"] == {"path": "/srv/shopfront/.lockstep-switch.json",
                                         "content": {"from": "r1", "to": "r2", "token": "this-run"}}
    assert found["switch_back"]["forget"] == "/srv/shopfront/.lockstep-switch.json"


def test_run_killed_between_the_switch_and_the_health_check_is_finished_by_the_next():
    # `current` points to r2, which never passed its health check: the next run deploying r2
    # switches from r1 again (the link is already there), restarts and checks, and goes back to
    # r1 if the check fails.
    host = deployed_host(current_release="r2", pending_switch={"from": "r1", "to": "r2", "token": "killed-run"},
                         lock=dict(RUN_LOCK, replaced={"token": "killed-run"}),
                         releases={"r1": {"mtime": 1000.0, "venv": key()}, "r2": {"mtime": 2000.0, "venv": key()}})
    found = plan(host, release("r2"))
    assert not found["idle"] and found["release"]["switch"] and not found["release"]["unpack"]
    assert found["current_release"] == "r1" and found["deployment"]["previous_release_id"] == "r1"
    assert found["links"] == [{"path": "/srv/shopfront/current", "target": "releases/r2", "previous": "releases/r1"}]
    assert found["restart"] and found["activate"]
    assert found["switch_back"]["links"] == [["/srv/shopfront/current", "releases/r1"]]
    assert found["service"]["rollback"] == [{"unit": "shopfront.service", "state": "restarted"}]


def test_record_of_a_run_that_ended_is_stale():
    # The run that switched to r1 passed its check (or it would have put current back) and
    # released its lock: r1 is confirmed, whether or not a later run was killed.
    host = deployed_host(pending_switch={"from": "r0", "to": "r1", "token": "ended-run"},
                         lock=dict(RUN_LOCK, replaced={"token": "killed-later"}))
    found = plan(host, release("r1"))
    assert found["idle"] and found["current_release"] == "r1"
    assert plan(deployed_host(pending_switch={"from": "r0", "to": "r1", "token": "ended-run"}, lock=RUN_LOCK),
                release("r1"))["idle"]
    # Killed before its switch: current is not the record's.
    host = deployed_host(pending_switch={"from": "r1", "to": "r2", "token": "killed-run"},
                         lock=dict(RUN_LOCK, replaced={"token": "killed-run"}))
    assert plan(host, release("r1"))["idle"]


def test_units_to_inspect():
    wanted = settings(command="", services=SERVICES)
    assert _app_plan.units_to_inspect(wanted, _app_plan.layout_of(wanted)) == sorted(SERVICE_UNITS + ["shopfront.service"])
    assert _app_plan.units_to_inspect(settings(service_manager="none"), _app_plan.layout_of(settings())) == []


def test_ipv6_listen_where_the_check_points():
    wanted = settings(command="gunicorn shopfront:app", listen="[::1]:8000", healthcheck_url="http://[::1]:8000/health")
    assert _app_plan.checked_before_switch(wanted)["unit"] == "shopfront"


@pytest.mark.parametrize("builder, shipped", [
    # poetry_app_build_cache given for the controller: the hosts get the archive from there.
    ("controller", "/cache/py3.11-key.tar"),
    # A build host's archive is fetched into the controller's cache.
    ("build1", "/controller-cache/py3.11-key.tar"),
])
def test_wheelhouse_is_shipped_from_where_the_controller_has_it(builder, shipped):
    found = _app_plan.wheelhouse(settings(build_on=builder), "py3.11-key", {"python_version": "3.11"},
                                 app_layout("/srv/shopfront", "shopfront"))
    assert found["archive"] == "/cache/py3.11-key.tar" and found["local_archive"] == shipped


@pytest.mark.parametrize("builder, compile_modules, bytecode", [
    # The controller compiles once for the hosts, which run that bytecode as it is.
    ("controller", True, True),
    ("controller", False, False),
    # A build host compiles nothing for the others: each compiles its own.
    ("build1", True, False),
])
def test_only_the_controller_compiles_for_the_hosts(builder, compile_modules, bytecode):
    found = _app_plan.wheelhouse(settings(build_on=builder, compile=compile_modules), "py3.11-key",
                                 {"python_version": "3.11"}, app_layout("/srv/shopfront", "shopfront"))
    assert found["bytecode"] is bytecode


def test_wheelhouse_says_what_to_build_it_from():
    """The builder takes each kind of host's wheels from that kind's own plan (tasks/build.yml
    takes them once for the hosts of a play batch)."""
    found = _app_plan.wheelhouse(settings(build_on="controller", only=[], without=["dev"], extras=["redis"]),
                                 "py3.11-key", {"python_version": "3.11"}, app_layout("/srv/shopfront", "shopfront"))
    assert found["source"] == "/home/me/shopfront"
    assert found["selection"] == {"only": [], "with_groups": [], "without_groups": ["dev"], "extras": ["redis"],
                                  "all_extras": False}


def steps_run(found):
    return sorted(name for name, runs in found["steps"].items() if runs)


@pytest.mark.parametrize("situation, found, expected", [
    ("a new host", lambda: plan(new_host(), release("r1")),
     # The restart marker that writing the units leaves is cleared once the release passed.
     ["check_health", "clean_up", "daemon_reload", "health_url", "make_directories", "switch", "write_service"]),
    ("a new host in check mode", lambda: plan(new_host(scratch=SCRATCH), release("r1"), check_mode=True),
     # Nothing starts, so nothing is checked; the locks are compared (with none before).
     ["clean_up", "compare", "health_url", "make_directories", "switch", "write_service"]),
    ("a git source before its fetch", lambda: plan(new_host(), None, source_type="git"),
     ["fetch", "health_url", "make_directories", "write_service"]),
    ("an archive before it is unpacked", lambda: plan(deployed_host(), archive_release()),
     ["check_health", "health_url", "plan_again", "switch"]),
    ("a release without a lock", lambda: plan(deployed_host(), release("r3", lock="")),
     ["check_health", "health_url", "plan_again", "refuse_project", "switch"]),
    ("a code-only release", lambda: plan(deployed_host(), release("r2")),
     ["check_health", "health_url", "switch"]),
    ("a code-only release with hooks", lambda: plan(deployed_host(), release("r2"), hooks={
        "before_switch": ["app check"], "after_switch": ["app warm"]}),
     ["check_health", "health_url", "hooks_after_switch", "hooks_before_switch", "switch"]),
    # The hooks before the switch run as a check mode run of the helper (it skips them).
    ("a code-only release with hooks, in check mode",
     lambda: plan(deployed_host(scratch=SCRATCH), release("r2"), True,
                  hooks={"before_switch": ["app check"], "after_switch": ["app warm"]}),
     ["compare", "health_url", "hooks_before_switch", "switch"]),
    ("a code-only release without systemd, checked by a command",
     lambda: plan(deployed_host(files=dict(deployed_host()["files"], units={}, unit_manifest=[]), units={}), release("r2"),
                  service_manager="none", healthcheck_url="", healthcheck_command=["python", "-c", "import app"]),
     ["check_health", "health_command", "switch"]),
    # The unit the host has runs no more.
    ("a move to no service manager", lambda: plan(deployed_host(), release("r2"), service_manager="none"),
     ["check_health", "health_url", "retire", "switch"]),
    ("the running release again", lambda: plan(deployed_host(), release("r1")), ["health_url"]),
])
def test_steps_that_run(situation, found, expected):
    assert steps_run(found()) == expected, situation


def test_locks_are_compared_in_check_mode_and_with_diff():
    host = deployed_host(scratch=SCRATCH)
    wanted = settings()
    assert not plan(host, release("r2"))["steps"]["compare"]
    assert plan(host, release("r2"), check_mode=True)["steps"]["compare"]
    assert _app_plan.plan(wanted, host, release("r2"), False, ENV, diff_mode=True)["steps"]["compare"]
    # Nothing to compare: the release is the current one.
    assert not _app_plan.plan(wanted, host, release("r1"), False, ENV, diff_mode=True)["steps"]["compare"]
