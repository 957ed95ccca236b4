# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helper (see plugin_utils/_helper.py): a read-only look at an application's host for
lockstep.poetry.app_inspect, run with poetry_app_python. Answers with who runs it, the Python,
the accounts, the layout (which of the directories are not yet directories of user and group
with mode 0755, the current release, releases and the virtualenv each links to, ready
virtualenvs), the files the role manages and the service's state, so that the role acts only
where something differs. The paths come from the action (plugin_utils/_app_layout.py, the one
definition of the layout). Changes nothing, except that it makes scratch space in the system's
temporary directory when asked to (scratch_prefix)."""
import base64
import grp
import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile

from ansible_collections.lockstep.poetry.plugins.module_utils._files import account_ids, replace_file
from ansible_collections.lockstep.poetry.plugins.module_utils._programs import missing_programs
from ansible_collections.lockstep.poetry.plugins.module_utils._hashing import file_digest


def name_of(lookup, number):
    try:
        return lookup(number)[0]
    except KeyError:
        return str(number)


def describe(path, checksum=False):
    """Type, owner, group and mode of a path (not followed), its checksum if asked; None if absent."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    kind = "link" if stat.S_ISLNK(st.st_mode) else "directory" if stat.S_ISDIR(st.st_mode) else "file"
    found = {
        "type": kind,
        "owner": name_of(pwd.getpwuid, st.st_uid),
        "group": name_of(grp.getgrgid, st.st_gid),
        "mode": "%04o" % stat.S_IMODE(st.st_mode),
    }
    if kind == "link":
        found["target"] = os.readlink(path)
    elif kind == "file" and checksum:
        found["sha1"] = file_digest(path, "sha1")
    return found


def subdirectories(path):
    """Directories in path, not links; hidden ones (a release being unpacked) left out."""
    try:
        return sorted(e for e in os.listdir(path) if not e.startswith(".")
                      and os.path.isdir(os.path.join(path, e)) and not os.path.islink(os.path.join(path, e)))
    except OSError:
        return []


def read_json(path):
    try:
        with open(path) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def unit_states(units):
    """systemd's view of each unit, {unit: {active, enabled}} in one question; None without
    systemd."""
    systemctl = shutil.which("systemctl")
    if not systemctl:
        return None
    if not units:
        return {}
    result = subprocess.run([systemctl, "show", "--property=Id,ActiveState,UnitFileState", "--"] + list(units),
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, universal_newlines=True, check=False)
    # One block of KEY=VALUE lines per unit, in the order asked, separated by an empty line.
    blocks = [dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
              for block in result.stdout.strip().split("\n\n")]
    if len(blocks) != len(units):
        blocks = [{} for unit in units]
    return {unit: {"active": block.get("ActiveState") == "active", "enabled": block.get("UnitFileState") == "enabled"}
            for unit, block in zip(units, blocks)}


def python_platform(marker_code):
    """What decides which wheels this Python installs: the environment that PEP 508 markers are
    evaluated in (marker_code, module_utils/_markers.py's ENVIRONMENT_CODE, which the action
    sends: the one definition, which lockstep.poetry.verify runs too), the ABI and the C library
    (for the wheel tags the controller works out)."""
    namespace = {}
    exec(compile(marker_code, "<marker environment>", "exec"), namespace)  # pylint: disable=exec-used
    libc = os.confstr("CS_GNU_LIBC_VERSION") if hasattr(os, "confstr") else None
    return {
        "marker_environment": namespace["marker_environment"](),
        # cpython-311-x86_64-linux-gnu: the ABI is cp311 (cp313t for a free-threaded build).
        "soabi": sysconfig.get_config_var("SOABI") or "",
        "free_threaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        # "glibc 2.36"; None for another C library (musl has no manylinux wheels).
        "glibc": libc.split()[1] if libc and libc.startswith("glibc ") else None,
    }


def take_lock(lock):
    """The deploy lock, taken unless another run holds it: a file made only if it does not exist,
    with the holder's description; one whose holder's token is lock["replace"] (a run that ended
    without releasing it) is taken over, and any with lock["force"] (poetry_app_break_lock). Answers with the path, whether it was taken, and the
    holder. Without the directory it belongs in, the lock is in the temporary directory."""
    path = lock["path"]
    if not os.path.isdir(os.path.dirname(path)):
        path = os.path.join(tempfile.gettempdir(), os.path.basename(path))
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        holder = read_json(path) or {}
        if not (lock.get("force") or (lock.get("replace") and holder.get("token") == lock["replace"])):
            return {"path": path, "acquired": False, "holder": holder}
        replace_file(path, json.dumps(lock["holder"]))
        return {"path": path, "acquired": True, "holder": lock["holder"], "replaced": holder}
    with os.fdopen(handle, "w") as stream:
        json.dump(lock["holder"], stream)
    return {"path": path, "acquired": True, "holder": lock["holder"]}


def main(args):
    # First, so that what follows is read under the lock.
    lock = take_lock(args["lock"]) if args.get("lock") else None
    layout = args["layout"]
    releases_dir = layout["releases"]
    venvs_dir = layout["venvs"]
    wanted = {"type": "directory", "owner": args["user"], "group": args["group"], "mode": "0755"}
    current = describe(layout["current"])
    releases = {}
    for release in subdirectories(releases_dir):
        link = os.path.join(releases_dir, release, layout["release_venv_link"])
        releases[release] = {
            "mtime": os.stat(os.path.join(releases_dir, release)).st_mtime,
            # A release is complete once it links to its virtualenv (the last step of staging).
            "venv": os.path.basename(os.readlink(link)) if os.path.islink(link) else None,
            # Kept after it failed its health check.
            "failed": os.path.exists(os.path.join(releases_dir, release, layout["failed_marker"])),
        }
    # The units asked about, and those the role recorded writing (a service no longer deployed).
    manifest = read_json(layout["unit_manifest"])
    unit_files = list(args.get("unit_files") or [])
    unit_files += [name for name in (manifest or []) if name not in unit_files]
    service = args["service"] + ".service" if args["service"] else ""
    states = unit_states(unit_files + ([service] if service and service not in unit_files else []))
    venvs = {venv: read_json(os.path.join(venvs_dir, venv, layout["venv_record"])) for venv in subdirectories(venvs_dir)}
    app_ids = account_ids(args["user"], args["group"])
    return {
        "user": pwd.getpwuid(os.getuid()).pw_name,
        "app_user_exists": app_ids[0] is not None,
        "app_group_exists": app_ids[1] is not None,
        "python": sys.executable,
        "python_version": "%d.%d" % sys.version_info[:2],
        "platform": python_platform(args["marker_code"]) if args.get("marker_code") else None,
        "git": shutil.which("git") is not None,
        "directories_to_fix": [path for path in args["directories"] if describe(path) != wanted],
        "current_release": os.path.basename(current["target"]) if current and current["type"] == "link" else "",
        "releases": releases,
        # Virtualenvs marked ready once built, with what they were built from.
        "venvs": venvs,
        # Of the services' programs (programs), those each ready virtualenv lacks in its bin.
        "programs_missing": {venv: missing_programs(os.path.join(venvs_dir, venv), args.get("programs") or [])
                             for venv, record in venvs.items() if record is not None},
        "files": {
            "env": describe(layout["env_file"], checksum=True),
            "unit": describe(layout["unit_file"], checksum=True) if layout["unit_file"] else None,
            "units": {name: describe(os.path.join(layout["unit_dir"], name), checksum=True) for name in unit_files},
            "unit_manifest": manifest,
            "restart_marker": os.path.exists(layout["restart_marker"]),
        },
        # A switch whose health check did not pass yet: {from, to}.
        "pending_switch": read_json(layout["pending_switch"]),
        "service": states.get(service) if states is not None and service else None,
        "units": states,
        "lock": lock,
        # Where each proxy of handover proxy forwards: the target of its link, None without one.
        "live_links": {path: os.readlink(path) if os.path.islink(path) else None for path in args.get("live_links") or []},
        # Shared files are the user's to put in place: those that are not there.
        "shared_files_missing": [path for path in args.get("shared_files") or [] if not os.path.isfile(path)],
        # Not for a run that stops here, another holding the lock.
        "scratch": tempfile.mkdtemp(prefix=args["scratch_prefix"])
        if args.get("scratch_prefix") and (lock is None or lock["acquired"]) else None,
    }


if __name__ == "__main__":
    print(json.dumps(main(json.loads(base64.b64decode(sys.argv[1])))))
