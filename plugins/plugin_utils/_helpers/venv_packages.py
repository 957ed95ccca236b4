# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helper (see plugin_utils/_helper.py): the distributions of a virtualenv of lockstep.poetry.app,
which has no pip of its own (made with `venv --without-pip`, as Poetry makes them). Removes the
distributions named in `remove` (every file its RECORD lists), then installs the wheelhouse
unpacked in `wheelhouse` (lockstep.poetry.wheelhouse: the wheels and wheelhouse.json, which
gives each file's sha256 from the lock), and removes that directory. With `make_with`, the
virtualenv is made first with that Python when it is not there yet; with `ready`, the record
that marks it ready is written last, once everything is installed and the virtualenv provides
the services' `programs` (in its bin; a virtualenv that lacks one is not marked ready).

Every wheel's sha256 is checked against the lock's before anything is installed. A wheel is
installed as the binary distribution format says (the PyPA's specification, as pip and Poetry's
installer do it): its files into site-packages, those of its .data directory where their scheme
goes (scripts, with the virtualenv's Python in a `#!python` line, into bin), a script for each
console and GUI entry point, INSTALLER, and a RECORD of every file written with its hash; with
`compile`, the bytecode of its modules too: the builder's, when it compiled them for this very
kind of Python (a zip file for each wheel in the wheelhouse's bytecode directory), else compiled
here. A distribution already installed at the locked version stays as it is; one at another
version is replaced. Why not pip: see the app role's README, "Build once for the fleet".
"""
import base64
import configparser
import csv
import hashlib
import importlib.util
import io
import json
import os
import py_compile
import re
import shutil
import subprocess
import sys
import zipfile

from ansible_collections.lockstep.poetry.plugins.module_utils._files import replace_file
from ansible_collections.lockstep.poetry.plugins.module_utils._hashing import file_digest
from ansible_collections.lockstep.poetry.plugins.module_utils._names import canonical_name
from ansible_collections.lockstep.poetry.plugins.module_utils._programs import missing_programs, missing_programs_message
from ansible_collections.lockstep.poetry.plugins.module_utils._wheel_files import (
    BYTECODE, MANIFEST, WheelFormatError, destination, dist_info_dir)

ARGUMENT_SPEC = {
    "venv": {"type": "str", "required": True},
    "make_with": {"type": "str"},
    "wheelhouse": {"type": "str"},
    "remove": {"type": "list", "elements": "str", "default": []},
    "compile": {"type": "bool", "default": True},
    # {path, content}: the record of what the virtualenv was built from (the app role's plan
    # gives both), written as JSON once it is ready.
    "ready": {"type": "dict"},
    # The services' programs, which the virtualenv must provide before it is marked ready.
    "programs": {"type": "list", "elements": "str", "default": []},
}
# Changes the virtualenv: not run in check mode.
RUNS_IN_CHECK_MODE = False

INSTALLER = "lockstep.poetry\n"
LAUNCHER = """#!%(python)s
# -*- coding: utf-8 -*-
import re
import sys
from %(module)s import %(name)s
if __name__ == "__main__":
    sys.argv[0] = re.sub(r"(-script\\.pyw|\\.exe)?$", "", sys.argv[0])
    sys.exit(%(call)s())
"""


class Refused(Exception):
    """A wheel or a virtualenv that cannot be handled as it is; the message says why."""


def record_hash(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")


class Venv(object):
    """Where a virtualenv's schemes are: its site-packages, bin, include and root."""

    def __init__(self, root):
        self.root = os.path.abspath(root)
        self.python = os.path.join(self.root, "bin", "python")
        found = [os.path.join(self.root, "lib", name, "site-packages")
                 for name in sorted(os.listdir(os.path.join(self.root, "lib"))) if name.startswith("python")]
        if len(found) != 1:
            raise Refused("%s is not a virtualenv with one site-packages" % self.root)
        self.site = found[0]
        self.version = os.path.basename(os.path.dirname(self.site))

    def scheme(self, scheme, distribution):
        """The directory of a wheel's .data/<scheme>."""
        dirs = {"purelib": self.site, "platlib": self.site, "scripts": os.path.join(self.root, "bin"),
                "headers": os.path.join(self.root, "include", "site", self.version, distribution),
                "data": self.root}
        if scheme not in dirs:
            raise Refused("its .data directory has an unknown scheme %s" % scheme)
        return dirs[scheme]

    def inside(self, path):
        """path, once it is known to be inside the virtualenv."""
        path = os.path.normpath(path)
        if os.path.commonpath([path, self.root]) != self.root:
            raise Refused("it would write %s, outside the virtualenv" % path)
        return path

    def installed(self):
        """{canonical name: (version, dist-info directory)} of site-packages."""
        found = {}
        for name in os.listdir(self.site):
            if name.endswith(".dist-info") and "-" in name:
                project, version = name[:-len(".dist-info")].rsplit("-", 1)
                found[canonical_name(project)] = (version, os.path.join(self.site, name))
        return found


def remove(venv, dist_info):
    """Removes every file the RECORD of dist_info lists, the bytecode of its modules, the
    directories that leaves empty, and dist_info itself."""
    with open(os.path.join(dist_info, "RECORD"), encoding="utf-8", newline="") as handle:
        paths = [row[0] for row in csv.reader(handle) if row]
    directories = set()
    for relative in paths:
        path = venv.inside(os.path.join(venv.site, relative))
        targets = [path]
        if path.endswith(".py"):
            cache = os.path.join(os.path.dirname(path), "__pycache__")
            stem = os.path.basename(path)[:-3] + "."
            if os.path.isdir(cache):
                targets += [os.path.join(cache, name) for name in os.listdir(cache) if name.startswith(stem)]
                directories.add(cache)
        for target in targets:
            if os.path.isfile(target) or os.path.islink(target):
                os.unlink(target)
        directories.add(os.path.dirname(path))
    shutil.rmtree(dist_info, ignore_errors=True)
    # Deepest first, so that a parent left empty by its children goes too.
    for directory in sorted(directories, key=len, reverse=True):
        while directory not in (venv.site, venv.root) and venv.inside(directory) and os.path.isdir(directory) \
                and not os.listdir(directory):
            os.rmdir(directory)
            directory = os.path.dirname(directory)


def entry_point_scripts(text):
    """[(script name, module, attribute)] of entry_points.txt's console and GUI scripts."""
    parser = configparser.ConfigParser(delimiters=("=",), interpolation=None)
    parser.optionxform = str
    parser.read_string(text)
    scripts = []
    for section in ("console_scripts", "gui_scripts"):
        if parser.has_section(section):
            for name, value in parser.items(section):
                # "module:attr.sub [extra]": the extras do not change the script.
                module, _sep, attribute = value.split("[")[0].strip().partition(":")
                scripts.append((name, module.strip(), attribute.strip()))
    return scripts


def install(venv, wheel_path, compile_modules, bytecode=None):
    """Installs the wheel at wheel_path into venv; returns the distribution's name. With
    compile_modules, the bytecode of its modules in site-packages: from the file bytecode when the
    builder compiled them (a zip file of the .pyc files at their paths in site-packages), else
    compiled here."""
    # [(path, content, executable)], every path checked before anything is written.
    files = []
    with zipfile.ZipFile(wheel_path) as wheel:
        names = wheel.namelist()
        dist_info = dist_info_dir(names)
        distribution = dist_info[:-len(".dist-info")].rsplit("-", 1)[0]
        metadata = wheel.read(dist_info + "/WHEEL").decode("utf-8")
        version = re.search(r"^Wheel-Version:\s*(\d+)", metadata, re.MULTILINE)
        if not version or version.group(1) != "1":
            raise Refused("its Wheel-Version is not 1.x")
        for info in wheel.infolist():
            where = destination(info.filename, dist_info)
            if where is None:
                continue
            scheme, rest = where
            data = wheel.read(info)
            executable = bool((info.external_attr >> 16) & 0o111)
            if scheme == "scripts":
                executable = True
                if data.startswith(b"#!python"):
                    data = b"#!" + venv.python.encode() + data[len(b"#!python"):]
            files.append((venv.inside(os.path.join(venv.scheme(scheme, distribution), rest)), data, executable))
        entry_points = dist_info + "/entry_points.txt"
        if entry_points in names:
            for script, module, attribute in entry_point_scripts(wheel.read(entry_points).decode("utf-8")):
                text = LAUNCHER % {"python": venv.python, "module": module, "name": attribute.split(".")[0],
                                   "call": attribute}
                files.append((venv.inside(os.path.join(venv.root, "bin", script)), text.encode("utf-8"), True))
    files.append((os.path.join(venv.site, dist_info, "INSTALLER"), INSTALLER.encode("utf-8"), False))
    written = []
    for path, data, executable in files:
        if not os.path.isdir(os.path.dirname(path)):
            os.makedirs(os.path.dirname(path))
        with open(path, "wb") as handle:
            handle.write(data)
        os.chmod(path, 0o755 if executable else 0o644)
        written.append((path, record_hash(data), str(len(data))))
    modules = [path for path, _hash, _size in written
               if compile_modules and path.endswith(".py") and os.path.commonpath([path, venv.site]) == venv.site]
    if bytecode and modules:
        compiled = place_bytecode(venv, modules, bytecode)
    else:
        compiled = [pyc for path in modules for pyc in compile_module(path)]
    record = os.path.join(venv.site, dist_info, "RECORD")
    out = io.StringIO()
    rows = csv.writer(out, lineterminator="\n")
    for path, digest, size in written:
        rows.writerow([os.path.relpath(path, venv.site), digest, size])
    for path in compiled + [record]:
        rows.writerow([os.path.relpath(path, venv.site), "", ""])
    with open(record, "w", encoding="utf-8") as handle:
        handle.write(out.getvalue())
    return distribution


def compile_module(path):
    """[the .pyc file] of the module at path, compiled here; [] for a module written for another
    Python version, which pip passes over too."""
    try:
        return [py_compile.compile(path, doraise=True)]
    except py_compile.PyCompileError:
        return []


def place_bytecode(venv, modules, bytecode):
    """The .pyc files of the modules (their paths), taken from the builder's (the zip file
    bytecode); a module it has none of is passed over: it did not compile there either (written for
    another Python version)."""
    placed = []
    with zipfile.ZipFile(bytecode) as shipped:
        names = set(shipped.namelist())
        for path in modules:
            pyc = importlib.util.cache_from_source(path)
            name = os.path.relpath(pyc, venv.site)
            if name not in names:
                continue
            if not os.path.isdir(os.path.dirname(pyc)):
                os.makedirs(os.path.dirname(pyc))
            with open(pyc, "wb") as handle:
                handle.write(shipped.read(name))
            os.chmod(pyc, 0o644)
            placed.append(pyc)
    return placed


def shipped_bytecode(wheelhouse, manifest):
    """The directory of the bytecode the builder compiled for the wheelhouse (a zip file for each
    wheel), when this Python runs it as it is (the same cache tag and magic number: the same
    version and kind of Python); None when there is none or it is another Python's, and the
    modules are compiled here."""
    made_for = manifest.get("bytecode")
    if not made_for or made_for.get("cache_tag") != sys.implementation.cache_tag \
            or made_for.get("magic") != importlib.util.MAGIC_NUMBER.hex():
        return None
    return os.path.join(wheelhouse, BYTECODE)


def write_ready(path, content):
    """Writes the record that marks the virtualenv ready (JSON, as Ansible's to_nice_json writes
    it), atomically, unless it is there as it should be; returns whether it wrote it."""
    text = json.dumps(content, indent=4, sort_keys=True) + "\n"
    try:
        with open(path) as handle:
            if handle.read() == text:
                return False
    except OSError:
        pass
    replace_file(path, text)
    return True


def main(args):
    answer = {"changed": False, "made_venv": False, "removed": [], "installed": [], "marked_ready": False,
              "bytecode_from": None}
    try:
        if args["make_with"] and not os.path.exists(os.path.join(args["venv"], "bin", "python")):
            made = subprocess.run([args["make_with"], "-m", "venv", "--without-pip", args["venv"]],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  universal_newlines=True, check=False)
            if made.returncode != 0:
                raise Refused("%s -m venv exited with %d: %s" % (args["make_with"], made.returncode, made.stdout.strip()))
            answer.update(changed=True, made_venv=True)
        venv = Venv(args["venv"])
        installed = venv.installed()
        for name in args["remove"]:
            if canonical_name(name) in installed:
                remove(venv, installed.pop(canonical_name(name))[1])
                answer["removed"].append(name)
        if args["wheelhouse"]:
            with open(os.path.join(args["wheelhouse"], MANIFEST)) as handle:
                manifest = json.load(handle)
            packages = manifest["packages"]
            bytecode = shipped_bytecode(args["wheelhouse"], manifest) if args["compile"] else None
            # Every file checked before anything is installed.
            for package in packages:
                found = file_digest(os.path.join(args["wheelhouse"], package["file"]))
                if found != package["sha256"]:
                    raise Refused("%s has sha256 %s, not the lock's %s: nothing was installed"
                                  % (package["file"], found, package["sha256"]))
            for package in packages:
                key = canonical_name(package["name"])
                if key in installed and installed[key][0] == package["version"]:
                    continue
                if key in installed:
                    remove(venv, installed.pop(key)[1])
                    answer["removed"].append(package["name"])
                try:
                    install(venv, os.path.join(args["wheelhouse"], package["file"]), args["compile"],
                            bytecode and os.path.join(bytecode, package["file"] + ".zip"))
                except (Refused, WheelFormatError) as error:
                    raise Refused("%s: %s" % (package["file"], error))
                answer["installed"].append("%s %s" % (package["name"], package["version"]))
            if answer["installed"] and args["compile"]:
                answer["bytecode_from"] = "the builder" if bytecode else "this host"
            shutil.rmtree(args["wheelhouse"], ignore_errors=True)
        missing = missing_programs(venv.root, args["programs"])
        if missing:
            raise Refused(missing_programs_message(missing, os.path.basename(venv.root)) + "; it was not marked ready")
        if args["ready"]:
            answer["marked_ready"] = write_ready(args["ready"]["path"], args["ready"]["content"])
    except (Refused, WheelFormatError, OSError, ValueError, KeyError, zipfile.BadZipFile, configparser.Error) as error:
        answer.update(failed=True, msg="%s: %s" % (args["venv"], error))
    answer["changed"] = answer["changed"] or bool(answer["removed"] or answer["installed"] or answer["marked_ready"])
    return answer


if __name__ == "__main__":
    print(json.dumps(main(json.loads(base64.b64decode(sys.argv[1])))))
