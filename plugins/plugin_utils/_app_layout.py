# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where lockstep.poetry.app keeps an application on its host: the one definition of the layout.

The deploy planner (_app_plan.py), the action lockstep.poetry.app_inspect and, through the
paths the action hands it, the host helper inspect_app all read it from here; the role's tasks
read it from the plan (``__poetry_app_plan.layout``). Private to this collection: no
compatibility promise (the layout on hosts is one: keep it)."""

import posixpath

# A release's own link to its virtualenv, and the record of what a virtualenv was built from,
# written into it once it is ready.
RELEASES = "releases"
VENVS = "venvs"
SHARED = "shared"
RELEASE_VENV_LINK = ".venv"
# In a release kept after it failed its health check (poetry_app_keep_failed_releases).
FAILED_MARKER = ".lockstep-failed"
VENV_RECORD = ".lockstep-virtualenv.json"
SYSTEMD_UNIT_DIR = "/etc/systemd/system"


def app_layout(root, service=""):
    """The paths of an application rooted at root (absolute) whose systemd unit is service
    (empty without one)."""
    root = root.rstrip("/") or "/"
    return {
        "root": root,
        # releases/<id>, each with .venv linking to ../../venvs/<key>.
        "releases": posixpath.join(root, RELEASES),
        # venvs/<key>, each with its record once ready.
        "venvs": posixpath.join(root, VENVS),
        # Directories that outlive releases (poetry_app_shared_paths), linked into each.
        "shared": posixpath.join(root, SHARED),
        # Poetry's cache and the git source's bare repository.
        "cache": posixpath.join(root, ".cache"),
        # The link to the release that runs: releases/<id>.
        "current": posixpath.join(root, "current"),
        # The virtualenv of the release that runs.
        "current_venv": posixpath.join(root, "current", RELEASE_VENV_LINK),
        # The links to a release started beside the running one for its health check, before it
        # takes traffic, and to its virtualenv (releases/<id>, venvs/<key>), while the check runs.
        "candidate": posixpath.join(root, "candidate"),
        "candidate_venv": posixpath.join(root, "candidate.venv"),
        "env_file": posixpath.join(root, "app.env"),
        # Exists while a change of the unit or of the environment waits for a restart, so that a
        # run that fails before the restart does not lose it.
        "restart_marker": posixpath.join(root, ".restart-needed"),
        # The last switch: which release `current` pointed to before, and the lock of the run that
        # switched, so that the next run finishes a run killed before its health check passed.
        "pending_switch": posixpath.join(root, ".lockstep-switch.json"),
        "unit_file": posixpath.join(SYSTEMD_UNIT_DIR, service + ".service") if service else "",
        "unit_dir": SYSTEMD_UNIT_DIR,
        # Held by the run that deploys the application (one at a time per host): beside the root,
        # which the first deploy has yet to make (/srv/.shopfront.deploy-lock).
        "deploy_lock": posixpath.join(posixpath.dirname(root), ".%s.deploy-lock" % posixpath.basename(root)),
        # The record of the unit files the role wrote for the application (a JSON list of names),
        # so that the units of services no longer deployed are found and removed.
        "unit_manifest": posixpath.join(root, ".lockstep-units.json"),
        "venv_record": VENV_RECORD,
        "release_venv_link": RELEASE_VENV_LINK,
        "failed_marker": FAILED_MARKER,
    }


# The links of the layout are relative, so that the whole root can move.
def current_target(release_id):
    """What `current` points to for a release."""
    return posixpath.join(RELEASES, release_id)


def venv_target(key):
    """What a release's .venv points to for the virtualenv key (from releases/<id>/)."""
    return posixpath.join("..", "..", VENVS, key)


def candidate_venv_target(key):
    """What candidate.venv points to for the virtualenv key (from the root)."""
    return posixpath.join(VENVS, key)


def shared_target(path):
    """What a release's shared path points to: var/log links to ../../../shared/var/log."""
    return posixpath.join(*([".."] * (len(path.split("/")) + 1) + [SHARED, path]))
