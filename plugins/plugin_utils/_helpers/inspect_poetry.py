# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helper (see plugin_utils/_helper.py): a read-only look at the target for
lockstep.poetry.poetry, run with the Python Poetry runs on. Answers with the interpreter's
version, the expanded paths (as the user the role runs as), what is installed there now and
which installed plugins are not wanted any more."""
import base64
import glob
import json
import os
import re
import sys
from importlib import metadata

PLUGIN_GROUPS = {"poetry.plugin", "poetry.application.plugin"}

ARGUMENT_SPEC = {
    "home": {"type": "str", "required": True},
    "bin_dir": {"type": "str", "required": True},
    # The virtualenv that holds Poetry, relative to home.
    "venv": {"type": "str", "required": True},
    # Requirement strings of the plugins wanted (poetry_plugins, and the mirror plugin).
    "plugins": {"type": "list", "elements": "str", "default": []},
}
# Read-only: it runs in check mode too.
RUNS_IN_CHECK_MODE = True


# A copy of module_utils/_names.py's canonical_name: a helper runs alone on the host
# (python -I -S) and cannot import the collection.
def canonical(requirement):
    """Distribution name of a requirement string, normalized as in PEP 503."""
    match = re.match(r"[A-Za-z0-9._-]*", requirement.strip())
    return re.sub(r"[-_.]+", "-", match.group(0)).lower()


def main(args):
    home, bin_dir = (os.path.abspath(os.path.expanduser(args[p])) for p in ("home", "bin_dir"))
    venv = os.path.join(home, args["venv"])
    # Only what this Python can import: after the target's Python moved to another minor
    # version (a Debian upgrade), a virtualenv built for the old one no longer runs Poetry and
    # counts as no install at all, so the role installs again.
    python = "%d.%d" % sys.version_info[:2]
    site_packages = [os.path.join(venv, "lib", "python" + python, "site-packages")]
    dists = {canonical(d.metadata["Name"]): d for d in metadata.distributions(path=site_packages)}
    poetry = dists.get("poetry")
    # Plugins Poetry itself depends on (poetry-plugin-export in 1.x) are not the user's to remove.
    bundled = {canonical(r) for r in (poetry.requires or [])} if poetry else set()
    plugins = sorted(
        name for name, dist in dists.items()
        if name not in bundled and any(ep.group in PLUGIN_GROUPS for ep in dist.entry_points)
    )
    link = os.path.join(bin_dir, "poetry")
    return {
        "python": python,
        "euid": os.geteuid(),
        "user_home": os.path.expanduser("~"),
        "home": home,
        "bin_dir": bin_dir,
        "bin_dir_exists": os.path.isdir(bin_dir),
        "bin_link": os.readlink(link) if os.path.islink(link) else None,
        "venv_exists": os.path.isdir(venv),
        "venv_target": os.path.realpath(venv) if os.path.islink(venv) else None,
        "venvs": sorted(
            p for p in glob.glob(os.path.join(home, "venv-*"))
            if os.path.isdir(p) and not os.path.islink(p)
        ),
        "version": poetry.version if poetry else None,
        "plugins": plugins,
        "stale_plugins": sorted(set(plugins) - {canonical(r) for r in args.get("plugins") or []}),
    }


if __name__ == "__main__":
    print(json.dumps(main(json.loads(base64.b64decode(sys.argv[1])))))
