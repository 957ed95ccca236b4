# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deploy planner of lockstep.poetry.app, situation by situation: what a deploy does from
what the host has (the answer of the helper inspect_app) and what the source holds."""

import hashlib
import os

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
        "pre_switch_commands": [], "hooks": {},
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
        "files": {"env": None, "unit": None, "restart_marker": False},
        "service": {"active": False, "enabled": False}, "scratch": None,
    }
    found.update(changes)
    return found


def key(lock=LOCK, wanted=None, release_id="r1"):
    return _app_plan.venv_key(wanted or settings(), lock, "3.11", release_id)


def record(lock=LOCK, pyproject=PYPROJECT):
    return {"lock_sha1": lock, "pyproject_sha1": pyproject, "python": "/usr/bin/python3", "python_version": "3.11",
            "only": ["main"], "with": [], "without": [], "extras": [], "all_extras": False, "root": False}


def managed_file(content, owner, group, mode):
    return {"type": "file", "owner": owner, "group": group, "mode": mode,
            "sha1": hashlib.sha1(content.encode("utf-8")).hexdigest()}


def deployed_host(**changes):
    """A host that runs release r1, complete, with its files as they should be and the service up."""
    wanted = settings()
    unit = _app_plan.unit_content(wanted, _app_plan.layout_of(wanted))
    found = new_host(
        app_user_exists=True, app_group_exists=True, directories_to_fix=[], current_release="r1",
        releases={"r1": {"mtime": 1000.0, "venv": key()}}, venvs={key(): record()},
        files={"env": managed_file(ENV, "shopfront", "shopfront", "0600"),
               "unit": managed_file(unit, "root", "root", "0644"), "restart_marker": False},
        service={"active": True, "enabled": True})
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
    assert found["stage"] and found["check_lock"] and found["check_program"]
    assert found["files_to_write"] == ["env", "unit"]
    assert found["links"] == [
        {"path": "/srv/shopfront/releases/r1/.venv", "target": "../../venvs/" + key(), "previous": None},
        {"path": "/srv/shopfront/current", "target": "releases/r1", "previous": None},
    ]
    assert found["switch"] == {"links": [["/srv/shopfront/releases/r1/.venv", "../../venvs/" + key()],
                                         ["/srv/shopfront/current", "releases/r1"]],
                               "touch": "/srv/shopfront/releases/r1"}
    assert found["switch_back"]["links"] == [["/srv/shopfront/current", None], ["/srv/shopfront/releases/r1/.venv", None]]
    assert found["restart"] and found["activate"]
    assert found["service"] == {"manage": True, "start": True, "state": "restarted", "daemon_reload": True,
                                "rollback_state": "stopped"}
    assert found["prune"] == []
    assert found["remove_if_staging_fails"] == ["/srv/shopfront/releases/r1", "/srv/shopfront/venvs/" + key()]
    assert found["deployment"] == {
        "release_id": "r1", "release_path": "/srv/shopfront/releases/r1", "previous_release_id": "",
        "switched": True, "virtualenv": "/srv/shopfront/venvs/" + key(), "virtualenv_key": key(),
        "virtualenv_reused": False, "environment_file": "/srv/shopfront/app.env", "service": "shopfront"}


def test_same_release_again_is_idle():
    found = plan(deployed_host(), release("r1"))
    assert found["idle"]
    assert not (found["stage"] or found["activate"] or found["restart"] or found["files_to_write"] or found["prune"])
    assert found["deployment"]["switched"] is False and found["deployment"]["virtualenv_reused"] is True
    assert found["deployment"]["previous_release_id"] == "r1"


def test_code_only_release_reuses_the_virtualenv_and_skips_the_lock_check():
    found = plan(deployed_host(), release("r2"))
    assert not found["idle"] and found["release"]["unpack"] and found["release"]["switch"]
    # The key follows the lock, not the release.
    assert found["venv"]["key"] == key() and not found["venv"]["build"]
    # A ready virtualenv was built from this very pyproject.toml and poetry.lock.
    assert not found["check_lock"]
    assert found["check_program"]
    assert [link["path"] for link in found["links"]] == ["/srv/shopfront/releases/r2/.venv", "/srv/shopfront/current"]
    assert found["links"][1]["previous"] == "releases/r1"
    assert found["files_to_write"] == [] and found["restart"]
    assert found["service"]["state"] == "restarted" and not found["service"]["daemon_reload"]
    assert found["service"]["rollback_state"] == "restarted"
    # A failed release goes; the virtualenv it reused stays.
    assert found["remove_if_staging_fails"] == ["/srv/shopfront/releases/r2"]
    assert found["remove_if_activation_fails"] == ["/srv/shopfront/releases/r2"]
    assert found["deployment"]["virtualenv_reused"] is True


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
    assert found["service"]["manage"] is False and found["service"]["start"] is False
    assert found["venv"]["build"] and not found["check_program"]
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
    assert found["service"]["start"] and found["service"]["state"] == "restarted" and found["service"]["daemon_reload"]


def test_changed_unit_without_a_new_release():
    found = plan(deployed_host(), release("r1"), command="gunicorn -w 4 shopfront:app")
    assert found["files_to_write"] == ["unit"] and found["links"] == [] and not found["stage"]
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
    found = plan(deployed_host(service={"active": False, "enabled": True}), release("r1"))
    assert found["activate"] and not found["restart"]
    assert found["service"]["start"] and found["service"]["state"] == "started"


def test_without_systemd():
    host = deployed_host(service=None)
    host["files"]["unit"] = None
    found = plan(host, release("r1"), service_manager="none", healthcheck_url="")
    assert found["idle"] and found["unit"] == "" and found["layout"]["unit_file"] == ""
    assert found["service"]["manage"] is False and found["deployment"]["service"] is None
    found = plan(host, release("r2"), service_manager="none", healthcheck_url="")
    assert found["activate"] and not found["restart"] and not found["service"]["start"]


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
    # The fixtures were rendered by the role's template before the unit moved into the planner.
    wanted = settings(command=command, unit_options=options, group="web")
    with open(os.path.join(FIXTURES, "app-unit-%d.service" % number)) as handle:
        assert _app_plan.unit_content(wanted, _app_plan.layout_of(wanted)) == handle.read()


@pytest.mark.parametrize("changes, message", [
    ({"command": ""}, "poetry_app_command is required when poetry_app_service_manager is systemd."),
    ({"healthcheck_command": ["true"]}, "Set poetry_app_healthcheck_url or poetry_app_healthcheck_command, not both."),
    ({"service_manager": "none", "command": ""}, "With poetry_app_service_manager none nothing serves"),
    ({"with": ["dev"]}, "Poetry ignores poetry_app_with and poetry_app_without when poetry_app_only is set"),
    ({"extras": ["a"], "all_extras": True}, "Set poetry_app_extras or poetry_app_all_extras, not both."),
    ({"keep_releases": 0}, "poetry_app_keep_releases must be at least 1"),
    ({"shared_paths": ["../etc"]}, "poetry_app_shared_paths must be relative paths"),
    ({"shared_paths": ["/var/log"]}, "poetry_app_shared_paths must be relative paths"),
    ({"shared_paths": ["a/./b"]}, "poetry_app_shared_paths must be relative paths"),
    ({"root": "srv/shopfront"}, "poetry_app_root must be an absolute path."),
    ({"root": "/"}, "poetry_app_root must be an absolute path."),
], ids=["no-command-under-systemd", "two-health-checks", "url-check-without-a-service", "only-with-with",
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
    assert found["restart"] and found["activate"] and found["check_program"]
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
