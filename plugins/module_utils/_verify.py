# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compare a virtualenv with what its lock says, for lockstep.poetry.verify; changes nothing.

- installed_distributions(venv): {canonical name: Installed} from the *.dist-info directories
  of its site-packages (METADATA's Name and Version, RECORD's files).
- parse_record(text): RECORD's rows (a CSV file: path, "algorithm=urlsafe-base64 digest without
  padding", size), quoted paths included.
- modified_files(venv, installed): every file a RECORD lists with a hash, hashed and compared
  (files outside the virtualenv skipped, as pip skips them).
- compare(expected, installed, ...): missing, extra and wrong-version distributions.

Private to this collection: no compatibility promise.
"""

import base64
import csv
import io
import os

from ansible_collections.lockstep.poetry.plugins.module_utils._hashing import file_digest
from ansible_collections.lockstep.poetry.plugins.module_utils._install import site_packages
from ansible_collections.lockstep.poetry.plugins.module_utils._markers import version_key
from ansible_collections.lockstep.poetry.plugins.module_utils._names import canonical_name
from ansible_collections.lockstep.poetry.plugins.module_utils._runner import PoetryError

# Installers put these into every virtualenv and Poetry never removes them: not "extra" unless
# the lock lists them (then their versions are checked like any other).
INSTALLER_DISTRIBUTIONS = ("pip", "setuptools", "wheel")


class Installed:
    """One installed distribution: its dist-info directory and what METADATA says."""

    def __init__(self, dist_info, name, version):
        self.dist_info = dist_info
        self.name = name
        self.version = version


def _metadata(path):
    """(Name, Version) from a METADATA file's headers (RFC 822: they end at the first blank
    line)."""
    name = version = None
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if not line.strip():
                break
            key, _sep, value = line.partition(":")
            if key.lower() == "name" and name is None:
                name = value.strip()
            elif key.lower() == "version" and version is None:
                version = value.strip()
    return name, version


def installed_distributions(venv):
    """{canonical name: Installed} of the virtualenv's site-packages; a dist-info without
    METADATA (a broken install) is named after its directory."""
    found = {}
    for directory in site_packages(venv):
        for entry in sorted(os.listdir(directory)):
            if not entry.endswith(".dist-info"):
                continue
            dist_info = os.path.join(directory, entry)
            try:
                name, version = _metadata(os.path.join(dist_info, "METADATA"))
            except OSError:
                name, version = None, None
            stem_name, _sep, stem_version = entry[: -len(".dist-info")].partition("-")
            installed = Installed(dist_info, name or stem_name, version or stem_version)
            found[canonical_name(installed.name)] = installed
    return dict(sorted(found.items()))


def parse_record(text):
    """[(path, algorithm, hex digest)] of a RECORD's rows; algorithm and digest are None for
    rows without a hash (RECORD itself, compiled files some installers add)."""
    rows = []
    for row in csv.reader(io.StringIO(text)):
        if not row or not row[0]:
            continue
        algorithm, digest = None, None
        if len(row) > 1 and "=" in row[1]:
            algorithm, encoded = row[1].split("=", 1)
            digest = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).hex()
        rows.append((row[0], algorithm, digest))
    return rows


def _problems(venv, installed):
    """[(path, "changed"|"missing")] and the number of files hashed, for one distribution."""
    site = os.path.dirname(installed.dist_info)
    root = os.path.realpath(venv) + os.sep
    try:
        with open(os.path.join(installed.dist_info, "RECORD"), encoding="utf-8") as handle:
            rows = parse_record(handle.read())
    except FileNotFoundError:
        return [(os.path.join(os.path.basename(installed.dist_info), "RECORD"), "missing")], 0
    except (OSError, UnicodeDecodeError, ValueError, csv.Error) as error:
        raise PoetryError("cannot read the RECORD of %s: %s" % (installed.dist_info, error))
    problems, checked = [], 0
    for path, algorithm, digest in rows:
        full = os.path.realpath(os.path.join(site, path))
        if digest is None or not full.startswith(root):
            continue
        checked += 1
        try:
            actual = file_digest(full, algorithm)
        except ValueError:
            raise PoetryError("the RECORD of %s names an unknown hash algorithm %s" % (installed.dist_info, algorithm))
        if actual is None:
            problems.append((path, "missing"))
        elif actual != digest:
            problems.append((path, "changed"))
    return problems, checked


def modified_files(venv, installed):
    """([{distribution, path, problem}], files checked) over every installed distribution."""
    modified, checked = [], 0
    for name, distribution in installed.items():
        problems, count = _problems(venv, distribution)
        checked += count
        modified += [{"distribution": name, "path": path, "problem": problem} for path, problem in problems]
    return modified, checked


def root_distribution(pyproject):
    """{canonical name: version} of the project itself as Poetry installs it (package mode),
    or {} for a project that is not a package."""
    project = pyproject.get("project") or {}
    poetry = (pyproject.get("tool") or {}).get("poetry") or {}
    if poetry.get("package-mode", True) is False:
        return {}
    name, version = project.get("name") or poetry.get("name"), project.get("version") or poetry.get("version")
    if not name or not version:
        raise PoetryError("root: pyproject.toml gives no name and version of the project (dynamic versions "
                          "cannot be read without building the project); set root to false")
    return {canonical_name(name): version}


def same_version(locked, installed):
    left, right = version_key(locked), version_key(installed)
    return locked == installed if left is None or right is None else left == right


def compare(expected, installed):
    """Missing, extra and wrong-version distributions: `expected` is {canonical name: version},
    `installed` installed_distributions()'s."""
    missing = [{"name": name, "version": version} for name, version in sorted(expected.items())
               if name not in installed]
    extra = [{"name": name, "version": dist.version} for name, dist in installed.items()
             if name not in expected and name not in INSTALLER_DISTRIBUTIONS]
    wrong = [{"name": name, "locked": version, "installed": installed[name].version}
             for name, version in sorted(expected.items())
             if name in installed and not same_version(version, installed[name].version)]
    return {"missing": missing, "extra": extra, "wrong_version": wrong}


def summary(result):
    """One line for people: what matches, or every kind of difference with its count."""
    checked = "%d distributions, %d files" % (result["checked"]["distributions"], result["checked"]["files"])
    if result["matches"]:
        return "matches the lock (sha256 %s): %s checked" % (result["lock_sha256"][:12], checked)
    parts = ["%d %s" % (len(result[key]), label) for key, label in (
        ("missing", "missing"), ("extra", "extra"), ("wrong_version", "at another version"),
        ("modified_files", "files modified or missing")) if result[key]]
    return "differs from the lock (sha256 %s): %s; %s checked" % (result["lock_sha256"][:12], ", ".join(parts), checked)
