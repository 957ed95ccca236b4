# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deploy planner of lockstep.poetry.app: every decision of a deploy, in pure functions.

``plan()`` takes the role's input (``settings``, the role's variables without their
``poetry_app_`` prefix), what the host said (``host``, the answer of the helper inspect_app),
what the source said (``release``: its id, the checksums of its pyproject.toml and poetry.lock
when known, and the archive to unpack; None for a git source not fetched yet) and whether this
is a check mode run, and returns one plan: whether the run is idle, what to lay out, whether to
unpack, the virtualenv's key and whether to build it, the files to write, the links to switch,
whether to restart, what to prune and the report. It does no I/O.

The action lockstep.poetry.app_inspect calls it after its look at the host, and again, without
looking at the host, when the run learns what the first plan could not know: a git source's
release once fetched, or the checksums of a release only known once unpacked. The role's tasks
only read the plan. Tests: tests/unit/plugins/plugin_utils/test_app_plan.py. Private to this
collection: no compatibility promise.
"""

import hashlib
import json
import posixpath
import re

from ansible_collections.lockstep.poetry.plugins.module_utils._hashing import text_digest
from ansible_collections.lockstep.poetry.plugins.plugin_utils._app_layout import (
    RELEASE_VENV_LINK, app_layout, current_target, shared_target, venv_target)

# The steps of a deploy where poetry_app_hooks run commands.
HOOKS = ("after_stage", "before_switch", "after_switch", "after_rollback")
# The files of a release that decide its virtualenv.
PROJECT_FILES = ("pyproject.toml", "poetry.lock")
# A path in poetry_app_shared_paths: relative, inside the release, no '.' or '..' components.
_BAD_SHARED_PATH = re.compile(r"^/|^$|(^|/)[.][.]?(/|$)")


class PlanError(Exception):
    """The input does not fit together; the message says how, for the user."""


def program_of(command):
    """The program that a service's command runs: its first word (a string is split as systemd
    splits an ExecStart line on whitespace), '' for no command."""
    words = command.split() if isinstance(command, str) else list(command)
    return words[0] if words else ""


def input_problems(settings):
    """What does not fit together in the role's input, as messages for the user."""
    checks = [
        (settings["service_manager"] == "none" or program_of(settings["command"]),
         "poetry_app_command is required when poetry_app_service_manager is systemd."),
        (not (settings["healthcheck_url"] and settings["healthcheck_command"]),
         "Set poetry_app_healthcheck_url or poetry_app_healthcheck_command, not both."),
        (settings["service_manager"] == "systemd" or not settings["healthcheck_url"],
         "With poetry_app_service_manager none nothing serves the application during the deploy: "
         "check its health with poetry_app_healthcheck_command."),
        (not (settings["only"] and (settings["with"] or settings["without"])),
         "Poetry ignores poetry_app_with and poetry_app_without when poetry_app_only is set: "
         "set poetry_app_only to [] to use them."),
        (not (settings["extras"] and settings["all_extras"]),
         "Set poetry_app_extras or poetry_app_all_extras, not both."),
        (settings["keep_releases"] >= 1,
         "poetry_app_keep_releases must be at least 1 (the current release)."),
        (not any(_BAD_SHARED_PATH.search(path) for path in settings["shared_paths"]),
         "poetry_app_shared_paths must be relative paths inside a release, without '.' or '..' components."),
        (settings["root"].startswith("/") and len(settings["root"]) > 1,
         "poetry_app_root must be an absolute path."),
        (settings["source_type"] or settings["rollback_to"],
         "poetry_app_source is required, unless poetry_app_rollback_to names a release to go back to."),
    ]
    return [message for fits, message in checks if not fits]


def check_input(settings):
    """Raises PlanError with every problem of the input at once."""
    problems = input_problems(settings)
    if problems:
        raise PlanError(" ".join(problems))


def unit_name(settings):
    """The service's systemd unit (without .service), '' when systemd does not run it."""
    return settings["service_name"] if settings["service_manager"] == "systemd" else ""


def layout_of(settings):
    """The application's layout (_app_layout.py)."""
    return app_layout(settings["root"], unit_name(settings))


def directories(settings, layout):
    """The directories that must be the application's user's and group's, mode 0755: the root,
    releases/, venvs/ and, with shared paths, shared/ and each of them."""
    found = [layout["root"], layout["releases"], layout["venvs"]]
    if settings["shared_paths"]:
        found.append(layout["shared"])
        found.extend(posixpath.join(layout["shared"], path) for path in settings["shared_paths"])
    return found


def needs_scratch(settings, check_mode):
    """Scratch space on the host: check mode unpacks and checks new releases there, and a git
    source is exported there. A rollback takes a release the host has."""
    return not settings["rollback_to"] and (check_mode or settings["source_type"] == "git")


def _complete(host, release_id):
    """Whether a release on the host links to a ready virtualenv (the last step of staging)."""
    venv = host["releases"].get(release_id, {}).get("venv")
    return venv is not None and host["venvs"].get(venv) is not None


def rollback_release(settings, host):
    """The kept release that poetry_app_rollback_to names: a release id, or `previous`, the
    release switched to last before the current one, leaving out those kept after they failed
    their health check. PlanError when the host has no such release, or no longer its
    virtualenv."""
    wanted = settings["rollback_to"]
    kept = sorted(host["releases"], key=lambda r: host["releases"][r]["mtime"], reverse=True)
    listed = ", ".join(kept) or "none"
    if wanted == "previous":
        candidates = [r for r in kept if r != host["current_release"] and not host["releases"][r].get("failed")
                      and _complete(host, r)]
        if not candidates:
            raise PlanError("poetry_app_rollback_to: there is no previous release to go back to (releases kept: %s)."
                            % listed)
        wanted = candidates[0]
    elif wanted not in host["releases"]:
        raise PlanError("poetry_app_rollback_to: release %s is not on the host: it was pruned or never deployed "
                        "there (releases kept: %s). Deploy it from its source." % (wanted, listed))
    elif not _complete(host, wanted):
        raise PlanError("poetry_app_rollback_to: release %s is incomplete (its virtualenv is gone or was never "
                        "ready). Deploy it from its source." % wanted)
    return {"id": wanted, "checksums": None, "archive": None}


def git_release(commit, scratch):
    """A git source's release, once fetched: named after the commit, exported into scratch
    space as an archive whose files are under a directory named after the release."""
    return {
        "id": commit[:12],
        "checksums": None,
        "archive": {"src": posixpath.join(scratch, "release.tar"), "remote_src": True, "strip_components": 1},
    }


def venv_key(settings, lock_sha1, python_version, release_id):
    """A virtualenv is keyed by what decides its content: the lock, the Python version, the
    groups, the extras, and the release itself when the project is installed too. (The JSON is
    the one Jinja's to_json wrote when the role worked this out in YAML: keys stay the same.)"""
    decided_by = [
        lock_sha1, python_version,
        sorted(settings["only"]), sorted(settings["with"]), sorted(settings["without"]),
        sorted(settings["extras"]), settings["all_extras"],
        release_id if settings["root_install"] else "",
    ]
    return "py%s-%s" % (python_version, hashlib.sha256(json.dumps(decided_by).encode("utf-8")).hexdigest()[:12])


def shared_links(shared_paths):
    """The links from a release to its shared paths (app_release's links option)."""
    return [{"path": path, "target": shared_target(path)} for path in shared_paths]


def _systemd_quote(word):
    """One argument of ExecStart, quoted so that systemd passes it as it is."""
    word = re.sub(r'([\\"])', r"\\\1", word).replace("%", "%%").replace("$", "$$")
    return '"%s"' % word


def exec_start(command, layout):
    """systemd's ExecStart for the service's command: a program without a '/' runs from the
    current release's virtualenv. A string keeps systemd's own quoting; a list is quoted
    argument by argument."""
    program = program_of(command)
    if "/" not in program:
        program = posixpath.join(layout["current"], RELEASE_VENV_LINK, "bin", program)
    if isinstance(command, str):
        return program + re.sub(r"^\s*\S+", "", command)
    return " ".join(_systemd_quote(word) for word in [program] + list(command[1:]))


def unit_content(settings, layout):
    """The service's systemd unit."""
    current = layout["current"]
    lines = [
        "# Managed by the lockstep.poetry.app role: changes made here are overwritten.",
        "[Unit]",
        "Description=%s (deployed by lockstep.poetry.app)" % settings["name"],
        "After=network-online.target",
        "Wants=network-online.target",
        "",
        "[Service]",
        "Type=exec",
        "User=%s" % settings["user"],
        "Group=%s" % settings["group"],
        "# The links resolve when the service starts: a restart after a switch runs the new release.",
        "WorkingDirectory=%s" % current,
        'Environment="VIRTUAL_ENV=%s/.venv"' % current,
        'Environment="PATH=%s/.venv/bin:/usr/local/bin:/usr/bin:/bin"' % current,
        "EnvironmentFile=%s" % layout["env_file"],
        "ExecStart=%s" % exec_start(settings["command"], layout),
        "Restart=%s" % settings["restart_policy"],
        "RestartSec=2",
    ]
    lines.extend("%s=%s" % (name, value) for name, value in sorted(settings["unit_options"].items()))
    lines.extend(["", "[Install]", "WantedBy=multi-user.target"])
    return "\n".join(lines) + "\n"


def files_to_write(settings, host, env_content, unit):
    """The managed files (the service's environment, and its unit under systemd) that the host
    does not have as they should be: content, owner, group and mode."""
    wanted = {"env": (env_content, settings["user"], settings["group"], "0600")}
    if settings["service_manager"] == "systemd":
        wanted["unit"] = (unit, "root", "root", "0644")
    differing = []
    for name in ("env", "unit"):
        if name not in wanted:
            continue
        content, owner, group, mode = wanted[name]
        found = host["files"].get(name) or {}
        if (found.get("type"), found.get("sha1"), found.get("owner"), found.get("group"), found.get("mode")) != (
                "file", text_digest(content), owner, group, mode):
            differing.append(name)
    return differing


def prune(settings, host, layout, release_id, key):
    """Releases beyond the newest keep_releases (this run's release counts as the newest) and
    the virtualenvs no kept release uses."""
    releases = dict(host["releases"])
    releases[release_id] = {"venv": key}
    older = sorted((r for r in host["releases"] if r != release_id),
                   key=lambda r: host["releases"][r]["mtime"], reverse=True)
    kept = ([release_id] + older)[:settings["keep_releases"]]
    used = set(releases[r]["venv"] for r in kept if releases[r]["venv"])
    return ([posixpath.join(layout["releases"], r) for r in sorted(releases) if r not in kept]
            + [posixpath.join(layout["venvs"], v) for v in sorted(host["venvs"]) if v not in used])


def hooks(settings, stage, switch_release, rollback):
    """The commands of poetry_app_hooks to run at the three points of a deploy where hooks run,
    each as {hook, command}, in order. Before the switch, in the new release: after_stage (when
    something was staged), then poetry_app_pre_switch_commands and before_switch (when the
    deploy switches to another release; not for a rollback). After the switch, in the release
    switched to: after_switch, and after_rollback for a rollback asked for. After an automatic
    rollback, in the release rolled back to: after_rollback."""
    wanted = dict((name, list((settings["hooks"] or {}).get(name) or [])) for name in HOOKS)
    wanted["before_switch"] = list(settings["pre_switch_commands"]) + wanted["before_switch"]

    def commands(*names):
        return [{"hook": name, "command": command} for name in names for command in wanted[name]]

    return {
        "before_switch": commands(*(("after_stage",) if stage else ())
                                  + (("before_switch",) if switch_release and not rollback else ())),
        "after_switch": commands(*("after_switch", "after_rollback") if rollback else ("after_switch",)),
        "after_rollback": commands("after_rollback"),
    }


def _where(check_mode, scratch, real, name):
    """name in scratch space in check mode (None without any), else in the real directory."""
    if check_mode:
        return posixpath.join(scratch, name) if scratch else None
    return posixpath.join(real, name)


def _layout_needed(found, host):
    """The accounts, the directories or the scratch space need a hand."""
    return bool(host["directories_to_fix"] or found["hand_scratch"] or found["create_user"] or found["create_group"])


def _service(manage, start, restart, daemon_reload, current_id):
    """What to do with the systemd service: start or restart it, and after a failed activation,
    restart it on the previous release, or stop it when there was none."""
    return {
        "manage": manage,
        "start": start,
        "state": "restarted" if restart else "started",
        "daemon_reload": daemon_reload,
        "rollback_state": "restarted" if current_id else "stopped",
    }


def _lock_checked_before(host, checksums):
    """A ready virtualenv was built from this very pyproject.toml and poetry.lock, which were
    checked then (the lock fresh)."""
    return any(record and record.get("lock_sha1") == checksums["poetry.lock"]
               and record.get("pyproject_sha1") is not None
               and record.get("pyproject_sha1") == checksums["pyproject.toml"]
               for record in host["venvs"].values())


def plan(settings, host, release, check_mode, env_content):
    """The plan of one deploy (see the module's docstring). Fields that depend on what is not
    known yet (the release of a git source before its fetch, the virtualenv of a release whose
    lock is only known once unpacked) are None until the plan is asked again."""
    layout = layout_of(settings)
    rollback = bool(settings["rollback_to"])
    if rollback:
        release = rollback_release(settings, host)
    systemd = settings["service_manager"] == "systemd"
    scratch = host.get("scratch")
    # The application's user exists, or will once the layout is in place: only a check mode run
    # on a new host finds it missing (files in scratch space then keep the connecting user).
    owner_known = host["app_user_exists"] or not check_mode
    become = settings["user"] != host["user"] and owner_known
    create_user = settings["create_user"] and not host["app_user_exists"]
    create_group = settings["create_user"] and not host["app_group_exists"]
    current_id = host["current_release"]
    unit = unit_content(settings, layout) if systemd else ""
    to_write = files_to_write(settings, host, env_content, unit)
    service = host.get("service") or {"active": False, "enabled": False}
    # systemd cannot answer for a unit that check mode did not write.
    manages_service = systemd and not (check_mode and host["files"].get("unit") is None)
    found = {
        "check_mode": check_mode,
        # The Python that builds virtualenvs and runs the helpers.
        "python": host["python"],
        "current_release": current_id,
        "layout": layout,
        "scratch": scratch,
        "owner_known": owner_known,
        "become": become,
        "create_user": create_user,
        "create_group": create_group,
        "directories": host["directories_to_fix"],
        # Scratch space is the application's user's when something runs there as that user: the
        # fetch of a git source, a release unpacked and checked in check mode.
        "hand_scratch": bool(become and scratch),
        "install_git": settings["source_type"] == "git" and not host["git"],
        # Check mode writes nothing but scratch space (None when none was made: a rollback).
        "git_dir": _where(check_mode, scratch, layout["cache"], "source.git"),
        "poetry_cache_dir": _where(check_mode, scratch and posixpath.join(scratch, "cache"), layout["cache"], "pypoetry"),
        "shared_links": shared_links(settings["shared_paths"]),
        "unit": unit,
        "files_to_write": to_write,
        "program": program_of(settings["command"]),
    }
    if release is None:
        # A git source, named once fetched: only the layout and the fetch are planned yet.
        found.update(layout_needed=_layout_needed(found, host), idle=False, release=None, venv=None, stage=False,
                     hooks=hooks(settings, False, False, False), check_lock=False, check_program=False,
                     links=[], switch=None, switch_back=None, restart=False, activate=False,
                     service=_service(manages_service, False, False, False, current_id), clear_marks=[],
                     remove_if_staging_fails=[], remove_if_activation_fails=[], mark_failed=None, prune=[],
                     deployment=None)
        return found

    release_id = release["id"]
    checksums = release.get("checksums")
    on_host = host["releases"].get(release_id, {})
    linked_venv = on_host.get("venv")
    # A release is complete once it links to a ready virtualenv; anything less is unpacked (again).
    complete = _complete(host, release_id)
    unpack = not complete
    switch_release = release_id != current_id
    missing = [name for name in PROJECT_FILES if checksums is not None and not checksums.get(name)]
    # The lock: from the source or the unpacked release, or, for a complete release, as recorded
    # by the virtualenv it links to (built from that very lock).
    if checksums is not None and not missing:
        lock_sha1 = checksums["poetry.lock"]
    elif complete and checksums is None:
        lock_sha1 = host["venvs"][linked_venv].get("lock_sha1")
    else:
        lock_sha1 = None
    key = venv_key(settings, lock_sha1, host["python_version"], release_id) if lock_sha1 else None
    build = key is not None and host["venvs"].get(key) is None
    release_dir = posixpath.join(layout["releases"], release_id)
    # In check mode a release to unpack goes into scratch space, to be checked without changing
    # anything.
    project_dir = posixpath.join(scratch if check_mode and unpack else layout["releases"], release_id)
    venv_dir = posixpath.join(layout["venvs"], key) if key else None

    # The switch: the release's link to its virtualenv (new, or changed settings), then `current`.
    links = []
    if key is not None and linked_venv != key:
        links.append({"path": posixpath.join(release_dir, RELEASE_VENV_LINK),
                      "target": venv_target(key),
                      "previous": venv_target(linked_venv) if linked_venv else None})
    if switch_release:
        links.append({"path": layout["current"], "target": current_target(release_id),
                      "previous": current_target(current_id) if current_id else None})
    marker = bool(host["files"].get("restart_marker"))
    restart = systemd and bool(links or to_write or marker)
    start = manages_service and (restart or not service["active"] or not service["enabled"])
    activate = bool(links or restart or (manages_service and not (service["active"] and service["enabled"])))
    # Staging: a release that is not complete, or whose settings now key another virtualenv.
    stage = unpack or linked_venv != key
    to_prune = prune(settings, host, layout, release_id, key) if key is not None else []
    program = found["program"]
    keep_failed = settings["keep_failed_releases"] and not rollback
    found["hand_scratch"] = found["hand_scratch"] and unpack
    found["layout_needed"] = _layout_needed(found, host)

    found.update(
        idle=not (found["layout_needed"] or stage or to_write or activate or to_prune),
        release={
            "id": release_id,
            "dir": release_dir,
            "project_dir": project_dir,
            "archive": release.get("archive"),
            "checksums": checksums,
            "complete": complete,
            "unpack": unpack,
            "switch": switch_release,
            # Files a Poetry project to deploy lacks (known once its checksums are).
            "missing": missing,
            # Kept after it failed its health check; the mark goes once it passes (clear_marks).
            "failed": bool(on_host.get("failed")),
            # Chosen by poetry_app_rollback_to among the releases the host keeps.
            "rollback": rollback,
        },
        venv=None if key is None else {
            "key": key,
            "dir": venv_dir,
            "build": build,
            "link_target": venv_target(key),
            "record_path": posixpath.join(venv_dir, layout["venv_record"]),
            # Written into a virtualenv once it is ready.
            "record": {
                "lock_sha1": lock_sha1,
                "pyproject_sha1": (checksums or {}).get("pyproject.toml"),
                "python": host["python"],
                "python_version": host["python_version"],
                "only": settings["only"],
                "with": settings["with"],
                "without": settings["without"],
                "extras": settings["extras"],
                "all_extras": settings["all_extras"],
                "root": settings["root_install"],
            },
        },
        stage=stage,
        hooks=hooks(settings, stage, switch_release, rollback),
        # The lock must be fresh, unless a ready virtualenv was built from this very
        # pyproject.toml and poetry.lock (a code-only release, say).
        check_lock=bool(unpack and checksums is not None and not missing and not _lock_checked_before(host, checksums)),
        # The service's program, looked up in the virtualenv unless it is a path, is checked for a
        # release to switch to or a new virtualenv once that exists (in check mode a new one
        # does not).
        check_program=bool(key is not None and program and "/" not in program
                           and (switch_release or build) and not (check_mode and build)),
        links=links,
        # The arguments of the helper switch_links: the switch marks the release as the newest.
        switch={"links": [[link["path"], link["target"]] for link in links],
                "touch": release_dir if switch_release else None},
        switch_back={"links": [[link["path"], link["previous"]] for link in reversed(links)], "touch": None},
        restart=restart,
        activate=activate,
        # A unit written now, or by a run that failed before its restart, needs systemd to reload.
        service=_service(manages_service, start, restart, "unit" in to_write or marker, current_id),
        # Files that say something is pending, to remove once the activation passed: the restart
        # marker (a restart done) and the mark of a release that failed before.
        clear_marks=([layout["restart_marker"]] if restart and (marker or to_write) else [])
        + ([posixpath.join(release_dir, layout["failed_marker"])] if on_host.get("failed") else []),
        # What a failure leaves behind: the staged release (unless it was there before, complete)
        # and a virtualenv built for it; after a failed activation, the release switched to.
        remove_if_staging_fails=([release_dir] if unpack and switch_release else [])
        + ([venv_dir] if build else []),
        # A release kept after it failed (poetry_app_keep_failed_releases) is marked instead, and
        # one that the host had before (a rollback to it) stays as it is.
        remove_if_activation_fails=[] if keep_failed or rollback
        else ([release_dir] if switch_release else []) + ([venv_dir] if build else []),
        mark_failed=posixpath.join(release_dir, layout["failed_marker"]) if keep_failed and switch_release else None,
        prune=to_prune,
        deployment={
            "release_id": release_id,
            "release_path": release_dir,
            "previous_release_id": current_id,
            "switched": bool(links),
            "virtualenv": venv_dir,
            "virtualenv_key": key,
            "virtualenv_reused": not build,
            "environment_file": layout["env_file"],
            "service": settings["service_name"] if systemd else None,
        },
    )
    return found
