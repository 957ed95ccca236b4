# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A wheelhouse: the locked files one kind of host installs, taken from the package indexes once,
checked against the lock's sha256 hashes, and packed with a requirements file that pins each to
its hash, for lockstep.poetry.wheelhouse (the app role's build-once mode).

- selected_packages(): what a kind of host installs from the lock (_lock_selection.py).
- best_wheel(): which of a locked package's files a host installs, by its wheel tags.
- choose(): that file for each selected package, or the reason why a package has none.
- requirements_text(): the requirements file pip installs the wheelhouse from (--require-hashes).
- package_index(): where a locked package comes from, and the credentials Poetry would send.
- bytecode_python(): a Python of the builder's that writes the hosts' bytecode, if it has one.
- extract_modules(), Compilers: the wheels' modules compiled once, for hosts of that Python.
- build(): download (several at once), check, compile and pack (the only part that does I/O, through an Index).

Private to this collection: no compatibility promise.
"""

import json
import os
import queue
import shutil
import subprocess
import tarfile
import tempfile
import threading
import zipfile
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.lockstep.poetry.plugins.module_utils import _toml
from ansible_collections.lockstep.poetry.plugins.module_utils._hashing import file_digest
from ansible_collections.lockstep.poetry.plugins.module_utils._lock_selection import LockSelectionError, select
from ansible_collections.lockstep.poetry.plugins.module_utils._names import canonical_name
from ansible_collections.lockstep.poetry.plugins.module_utils._wheel_files import BYTECODE, MANIFEST, WheelFormatError, site_modules

PYPI_SIMPLE = "https://pypi.org/simple/"
REQUIREMENTS = "requirements.txt"
# What a Python says of the bytecode it writes (its cache tag and magic number) and of its ABI, as
# the wheel tags of CPython name it (cp311; None for another implementation).
PROBE = (
    "import importlib.util, json, sys; print(json.dumps({'cache_tag': sys.implementation.cache_tag, "
    "'magic': importlib.util.MAGIC_NUMBER.hex(), 'abi': 'cp%d%d%s' % (sys.version_info[0], sys.version_info[1], "
    "sys.abiflags) if sys.implementation.name == 'cpython' else None}))"
)


class WheelhouseError(Exception):
    """A locked package cannot be shipped as it is; the message names it."""


def selected_packages(project_path, selection, environment):
    """The locked distributions a Python whose marker environment is environment installs from the
    project at project_path for selection (only, with_groups, without_groups, extras,
    all_extras), each with its [package.source] from the lock."""
    try:
        pyproject = _toml.load(os.path.join(project_path, "pyproject.toml"))
        lock = _toml.load(os.path.join(project_path, "poetry.lock"))
        selected = select(pyproject, lock, selection, environment)
    except _toml.TomlError as error:
        raise WheelhouseError(error.msg)
    except LockSelectionError as error:
        raise WheelhouseError(str(error))
    sources = dict((canonical_name(package["name"]), package.get("source")) for package in lock.get("package", []))
    return dict((key, dict(package, source=sources.get(key))) for key, package in selected.items())


def wheel_tags(filename):
    """The tags a wheel's file name says it fits ({py3-none-any, ...}); None for an sdist."""
    if not filename.endswith(".whl"):
        return None
    parts = filename[:-len(".whl")].split("-")
    if len(parts) not in (5, 6):
        return None
    pythons, abis, platforms = parts[-3:]
    return set("%s-%s-%s" % (python, abi, platform)
               for python in pythons.split(".") for abi in abis.split(".") for platform in platforms.split("."))


def best_wheel(files, tags):
    """Among a package's locked files ([{file, hash}]), the wheel that the host installs: the one
    whose best tag comes first in tags (the host's tags, most specific first, as pip orders
    them); None when no wheel fits."""
    rank = dict((tag, position) for position, tag in enumerate(tags))
    best = None
    for entry in files:
        fits = [rank[tag] for tag in wheel_tags(entry["file"]) or () if tag in rank]
        if fits and (best is None or min(fits) < best[0]):
            best = (min(fits), entry)
    return best[1] if best else None


def choose(packages, tags, describe_target):
    """[{name, version, file, sha256, source}] for the selected packages ({key: {name, version,
    files, source}}), each the wheel the host installs; raises WheelhouseError naming every
    package that has none (only an sdist: building it needs the host's own Python)."""
    chosen, without = [], []
    for key in sorted(packages):
        package = packages[key]
        entry = best_wheel(package["files"], tags)
        if entry is None:
            without.append("%s %s" % (package["name"], package["version"]))
            continue
        algorithm, _sep, digest = entry["hash"].partition(":")
        if algorithm != "sha256" or not digest:
            raise WheelhouseError("%s %s: the lock gives %s no sha256 hash (%s)"
                                  % (package["name"], package["version"], entry["file"], entry["hash"]))
        chosen.append({"name": package["name"], "version": package["version"], "file": entry["file"],
                       "sha256": digest.lower(), "source": package.get("source")})
    if without:
        raise WheelhouseError(
            "the lock has no wheel for %s that fits %s (only files for other Pythons or platforms, or an sdist "
            "that would have to be built there): deploy with poetry_app_build_on: host, where each host builds "
            "what it needs" % (", ".join(without), describe_target))
    return chosen


def requirements_text(chosen):
    """The requirements file of the wheelhouse: each package pinned to its version and to the hash
    of the file shipped, which is one of the lock's."""
    return "".join("%s==%s --hash=sha256:%s\n" % (entry["name"], entry["version"], entry["sha256"])
                   for entry in chosen)


def package_index(source):
    """(URL of the simple API, name of the source whose credentials Poetry sends) for a locked
    package's [package.source] (None: PyPI)."""
    if not source or source.get("type") in (None, ""):
        return PYPI_SIMPLE, None
    if source.get("type") != "legacy":
        raise WheelhouseError("build once ships files from package indexes; a %s source (%s) is not one"
                              % (source.get("type"), source.get("url") or source.get("reference")))
    return source["url"].rstrip("/") + "/", source.get("reference")


def bytecode_python(tags, candidates):
    """The first of candidates (paths of Pythons on the builder; None is passed over) that writes
    the bytecode of the hosts whose wheel tags are tags (most specific first): a CPython of their
    ABI (cp311, cp313t), so of their version. {python, cache_tag, magic}; None when none does."""
    abi = tags[0].split("-")[1] if tags else None
    for python in [candidate for position, candidate in enumerate(candidates)
                   if candidate and candidate not in candidates[:position]]:
        try:
            probe = subprocess.run([python, "-I", "-c", PROBE], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL, universal_newlines=True, timeout=60, check=True)
            said = json.loads(probe.stdout)
        except (OSError, subprocess.SubprocessError, ValueError):
            continue
        if abi and said.get("abi") == abi:
            return {"python": python, "cache_tag": said["cache_tag"], "magic": said["magic"]}
    return None


def extract_modules(filename, path, dest):
    """Writes the modules (.py files) that the wheel at path, named filename, installs into
    site-packages into dest/<filename>/, at their paths in site-packages, for Compilers; returns
    that directory, or None when the wheel installs no module."""
    root = os.path.join(dest, filename)
    try:
        with zipfile.ZipFile(path) as wheel:
            modules = site_modules(wheel.namelist())
            for member, site_path in modules.items():
                target = os.path.normpath(os.path.join(root, site_path))
                if os.path.commonpath([target, root]) != root:
                    raise WheelhouseError("%s would install %s outside site-packages" % (filename, site_path))
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, "wb") as handle:
                    handle.write(wheel.read(member))
    except (zipfile.BadZipFile, WheelFormatError) as error:
        raise WheelhouseError("%s is not a wheel that can be installed: %s" % (filename, error))
    return root if modules else None


# What a compiler runs, with the hosts' kind of Python: for each directory that extract_modules()
# wrote, named on a line of its input, it compiles the modules into checked hash-based .pyc files
# (PEP 552), which hold the hash of their source rather than its time stamp, so they are valid
# wherever the same source is installed; it replaces the directory with <directory>.zip, which
# holds each .pyc at its path in site-packages (one file that a host takes from the archive in one
# piece; the fastest level of compression more than halves .pyc files), and answers with the
# directory's name. Modules that do not compile (written for another Python version) are passed
# over, as compiling them on a host passes over them.
COMPILER = """
import compileall, os, py_compile, shutil, sys, zipfile
for line in sys.stdin:
    root = line.rstrip("\\n")
    compileall.compile_dir(root, quiet=2, invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
    with zipfile.ZipFile(root + ".zip", "w", zipfile.ZIP_DEFLATED, compresslevel=1) as bytecode:
        for directory, _dirs, files in sorted(os.walk(root)):
            for name in sorted(files):
                if name.endswith(".pyc"):
                    path = os.path.join(directory, name)
                    bytecode.write(path, os.path.relpath(path, root))
    shutil.rmtree(root)
    sys.stdout.write(root + "\\n")
    sys.stdout.flush()
"""


class Compilers(object):
    """The bytecode of each wheel's modules, compiled as soon as they are extracted, while other
    wheels download: one process of python (the hosts' kind) running COMPILER for each of the
    builder's cores, each taking the next directory when it is done with one. close() waits for
    all, and returns why one failed (None when none did)."""

    def __init__(self, python):
        self._waiting = queue.Queue()
        self._failures = []
        self._threads = [threading.Thread(target=self._serve, args=(python,)) for _core in range(os.cpu_count() or 1)]
        for thread in self._threads:
            thread.start()

    def compile(self, root):
        self._waiting.put(root)

    def close(self):
        for _thread in self._threads:
            self._waiting.put(None)
        for thread in self._threads:
            thread.join()
        return self._failures[0] if self._failures else None

    def _serve(self, python):
        with tempfile.TemporaryFile() as errors:
            try:
                process = subprocess.Popen([python, "-I", "-c", COMPILER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                           stderr=errors, universal_newlines=True)
            except OSError as error:
                self._failures.append("cannot run %s to compile the modules: %s" % (python, error))
                return
            root = None
            try:
                for root in iter(self._waiting.get, None):
                    process.stdin.write(root + "\n")
                    process.stdin.flush()
                    if process.stdout.readline() != root + "\n":
                        raise OSError("no answer")
                process.stdin.close()
                process.wait()
            except OSError:
                process.kill()
                process.wait()
                errors.seek(0)
                said = errors.read().decode("utf-8", "replace").strip()[-2000:]
                self._failures.append("%s could not compile the modules of %s (exit status %s)%s" % (
                    python, os.path.basename(root), process.returncode, ": " + said if said else ""))


# Files downloaded at once: the index's answers are waited for side by side.
DOWNLOADS = 8


def build(chosen, open_index, archive, manifest, python=None):
    """Downloads each chosen file from its index (open_index(source) returns an Index, asked once
    for each index), several at once, checks its sha256 against the lock's, compiles the modules
    with python when one is given (Compilers, beside the downloads), and packs the wheels, the
    bytecode, the requirements file and the manifest into archive (a tar file, written in one
    rename). Raises WheelhouseError on a file whose hash the lock does not have (the first in the
    lock's order), before anything is packed."""
    # One Index for each package index, before the downloads start: an Index makes its TLS context
    # once, for all the files it serves.
    indexes = {}
    for entry in chosen:
        where = package_index(entry["source"])
        if where not in indexes:
            indexes[where] = open_index(entry["source"])
    scratch = tempfile.mkdtemp(prefix="lockstep-poetry-wheelhouse-", dir=os.path.dirname(archive))
    bytecode = os.path.join(scratch, BYTECODE)
    compilers = Compilers(python) if python else None

    def take(entry):
        path = os.path.join(scratch, entry["file"])
        index = indexes[package_index(entry["source"])]
        index.download(canonical_name(entry["name"]), entry["file"], path)
        found = file_digest(path)
        if found != entry["sha256"]:
            raise WheelhouseError(
                "%s %s: %s from %s has sha256 %s, which is not the one poetry.lock gives it (%s). Nothing "
                "was shipped to any host: find out why the index serves another file under the locked "
                "name and version" % (entry["name"], entry["version"], entry["file"], index.url, found,
                                      entry["sha256"]))
        if compilers:
            modules = extract_modules(entry["file"], path, bytecode)
            if modules:
                compilers.compile(modules)

    try:
        try:
            with ThreadPoolExecutor(max_workers=DOWNLOADS) as downloads:
                # list() waits for all, and raises the first failure in the lock's order.
                list(downloads.map(take, chosen))
        finally:
            # The compilers end whatever happened; a failed download is the news then.
            not_compiled = compilers and compilers.close()
        if not_compiled:
            raise WheelhouseError(not_compiled)
        with open(os.path.join(scratch, REQUIREMENTS), "w") as handle:
            handle.write(requirements_text(chosen))
        with open(os.path.join(scratch, MANIFEST), "w") as handle:
            json.dump(manifest, handle, indent=1, sort_keys=True)
        packed = archive + ".part"
        with tarfile.open(packed, "w") as tar:
            for name in sorted(os.listdir(scratch)):
                tar.add(os.path.join(scratch, name), arcname=name)
        os.replace(packed, archive)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
