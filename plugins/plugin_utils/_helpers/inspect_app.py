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
import hashlib
import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile


def account(lookup, name):
    try:
        lookup(name)
        return True
    except KeyError:
        return False


def name_of(lookup, number):
    try:
        return lookup(number)[0]
    except KeyError:
        return str(number)


# As module_utils/_hashing.py's file_digest: a helper cannot import the collection.
def sha1(path):
    digest = hashlib.sha1()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(65536), b""):
            digest.update(block)
    return digest.hexdigest()


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
        found["sha1"] = sha1(path)
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


def service_state(name):
    """systemd's view of the unit: active and enabled, or None without systemd."""
    systemctl = shutil.which("systemctl")
    if not name or not systemctl:
        return None
    unit = name + ".service"

    def ask(verb):
        # is-active and is-enabled answer with a word; their exit code only repeats it.
        result = subprocess.run([systemctl, verb, unit], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, universal_newlines=True, check=False)
        return result.stdout.strip()

    return {"active": ask("is-active") == "active", "enabled": ask("is-enabled") == "enabled"}


def main(args):
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
    return {
        "user": pwd.getpwuid(os.getuid()).pw_name,
        "app_user_exists": account(pwd.getpwnam, args["user"]),
        "app_group_exists": account(grp.getgrnam, args["group"]),
        "python": sys.executable,
        "python_version": "%d.%d" % sys.version_info[:2],
        "git": shutil.which("git") is not None,
        "directories_to_fix": [path for path in args["directories"] if describe(path) != wanted],
        "current_release": os.path.basename(current["target"]) if current and current["type"] == "link" else "",
        "releases": releases,
        # Virtualenvs marked ready once built, with what they were built from.
        "venvs": {venv: read_json(os.path.join(venvs_dir, venv, layout["venv_record"])) for venv in subdirectories(venvs_dir)},
        "files": {
            "env": describe(layout["env_file"], checksum=True),
            "unit": describe(layout["unit_file"], checksum=True) if layout["unit_file"] else None,
            "restart_marker": os.path.exists(layout["restart_marker"]),
        },
        "service": service_state(args["service"]),
        "scratch": tempfile.mkdtemp(prefix=args["scratch_prefix"]) if args.get("scratch_prefix") else None,
    }


if __name__ == "__main__":
    print(json.dumps(main(json.loads(base64.b64decode(sys.argv[1])))))
