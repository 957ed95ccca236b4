# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""lockstep.poetry.app_release on real tar and zip archives made here, each test both ways the
action runs it: as the module, and (with its python option) as module_utils/_release.py run
as a helper, the program plugin_utils/_helper.py makes of it, with a Python of its own on
arguments validated against the module's argument spec (as the action validates them:
test_app_release_action.py). Here rather than beside the module tests, which cannot import the
controller's plugin_utils."""

import hashlib
import io
import json
import os
import stat
import subprocess
import sys
import tarfile
import zipfile

import pytest

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible_collections.lockstep.poetry.plugins.module_utils import _release
from ansible_collections.lockstep.poetry.plugins.modules import app_release
from ansible_collections.lockstep.poetry.plugins.plugin_utils._helper import program_with_arguments
from ansible_collections.lockstep.poetry.tests.unit.plugins.modules.run_module import run_module

PYPROJECT = b'[tool.poetry]\nname = "shopfront"\nversion = "1.0.0"\n'
LOCK = b'[[package]]\nname = "click"\nversion = "8.1.8"\n'


def sha1(data):
    return hashlib.sha1(data).hexdigest()


def make_tar(path, entries):
    """entries: (name, bytes for a file | None for a directory | ('sym'|'lnk'|'fifo', target), mode)."""
    with tarfile.open(str(path), "w:gz") as archive:
        for name, content, mode in entries:
            info = tarfile.TarInfo(name)
            info.mode = mode
            info.mtime = 1700000000
            data = None
            if content is None:
                info.type = tarfile.DIRTYPE
            elif isinstance(content, tuple):
                info.type = {"sym": tarfile.SYMTYPE, "lnk": tarfile.LNKTYPE, "fifo": tarfile.FIFOTYPE}[content[0]]
                info.linkname = content[1] or ""
            else:
                info.size = len(content)
                data = io.BytesIO(content)
            archive.addfile(info, data)
    return str(path)


def release_tar(tmp_path, prefix="shopfront-1.0/"):
    return make_tar(tmp_path / "release.tar.gz", [
        (prefix, None, 0o755),
        (prefix + "pyproject.toml", PYPROJECT, 0o644),
        (prefix + "poetry.lock", LOCK, 0o666),
        (prefix + "bin/", None, 0o755),
        (prefix + "bin/serve", b"#!/bin/sh\n", 0o4755),
        (prefix + "media/", None, 0o755),
        (prefix + "media/shipped.png", b"png", 0o644),
        (prefix + "README", ("sym", "pyproject.toml"), 0o777),
        (prefix + "pyproject.copy", ("lnk", prefix + "pyproject.toml"), 0o644),
    ])


@pytest.fixture(params=["module", "script"])
def unpack(request, capsys):
    """unpack(args, check_mode=False, diff=False): the result of app_release with args."""
    def as_script(args, check_mode=False, diff=False):
        del diff  # the diff is always in the result; Ansible shows it in diff mode
        params = dict(ArgumentSpecValidator(_release.ARGUMENT_SPEC).validate(args).validated_parameters,
                      _check_mode=check_mode)
        output = subprocess.run([sys.executable, "-I", "-S", "-"], input=program_with_arguments(_release.__file__, params),
                                stdout=subprocess.PIPE, universal_newlines=True, check=True)
        return json.loads(output.stdout)

    if request.param == "module":
        return lambda args, check_mode=False, diff=False: run_module(app_release, capsys, args, check_mode, diff)
    return as_script


@pytest.fixture
def releases(tmp_path):
    path = tmp_path / "releases"
    path.mkdir()
    return path


def test_unpacks_strips_links_and_reports_checksums(tmp_path, releases, unpack):
    dest = releases / "abc123"
    result = unpack(dict(
        src=release_tar(tmp_path), remote_src=True, dest=str(dest), strip_components=1,
        links=[{"path": "media", "target": "../../shared/media"},
               {"path": "var/log", "target": "../../../shared/var/log"}],
        checksums=["pyproject.toml", "poetry.lock", "missing.txt", "media", "pyproject.copy"]))
    assert result["changed"] is True and "failed" not in result
    assert result["checksums"] == {"pyproject.toml": sha1(PYPROJECT), "poetry.lock": sha1(LOCK),
                                   "missing.txt": None, "media": None, "pyproject.copy": sha1(PYPROJECT)}
    assert result["entries"] == 8
    assert (dest / "pyproject.toml").read_bytes() == PYPROJECT
    assert os.readlink(str(dest / "media")) == "../../shared/media"
    assert os.readlink(str(dest / "var/log")) == "../../../shared/var/log"
    assert os.readlink(str(dest / "README")) == "pyproject.toml"
    assert os.stat(str(dest / "pyproject.copy")).st_ino == os.stat(str(dest / "pyproject.toml")).st_ino
    assert stat.S_IMODE(os.stat(str(dest)).st_mode) == 0o755
    # setuid and group/other write are dropped, the rest kept, and so are the times.
    assert stat.S_IMODE(os.stat(str(dest / "bin/serve")).st_mode) == 0o755
    assert stat.S_IMODE(os.stat(str(dest / "poetry.lock")).st_mode) == 0o644
    assert os.stat(str(dest / "poetry.lock")).st_mtime == 1700000000
    assert sorted(os.listdir(str(releases))) == ["abc123"]


def test_existing_release_is_left_alone_unless_forced(tmp_path, releases, unpack):
    dest = releases / "abc123"
    dest.mkdir()
    (dest / "pyproject.toml").write_bytes(b"old")
    (dest / "leftover").write_bytes(b"from an interrupted run")
    args = dict(src=release_tar(tmp_path), remote_src=True, dest=str(dest), strip_components=1,
                checksums=["pyproject.toml"])
    result = unpack(args)
    assert result["changed"] is False and result["entries"] == 0
    assert result["checksums"] == {"pyproject.toml": sha1(b"old")}

    result = unpack(dict(args, force=True))
    assert result["changed"] is True
    assert result["checksums"] == {"pyproject.toml": sha1(PYPROJECT)}
    assert not (dest / "leftover").exists()
    assert sorted(os.listdir(str(releases))) == ["abc123"]


def test_check_mode_reads_the_archive_and_writes_nothing(tmp_path, releases, unpack):
    dest = releases / "abc123"
    result = unpack(dict(
        src=release_tar(tmp_path), remote_src=True, dest=str(dest), strip_components=1,
        checksums=["poetry.lock"]), check_mode=True, diff=True)
    assert result["changed"] is True
    assert result["checksums"] == {"poetry.lock": sha1(LOCK)}
    assert result["diff"]["before"]["state"] == "absent"
    assert os.listdir(str(releases)) == []


def test_zip_archive_keeps_unix_modes(tmp_path, releases, unpack):
    src = str(tmp_path / "release.zip")
    with zipfile.ZipFile(src, "w") as archive:
        archive.writestr("app/", "")
        # Made where files have no Unix mode: readable by all.
        plain = zipfile.ZipInfo("app/pyproject.toml")
        plain.external_attr = 0x20  # MS-DOS "archive" only
        archive.writestr(plain, PYPROJECT)
        script = zipfile.ZipInfo("app/run.sh")
        script.external_attr = 0o100755 << 16
        archive.writestr(script, "#!/bin/sh\n")
    dest = releases / "z1"
    result = unpack(dict(
        src=src, remote_src=True, dest=str(dest), strip_components=1, checksums=["pyproject.toml"]))
    assert result["changed"] is True
    assert result["checksums"] == {"pyproject.toml": sha1(PYPROJECT)}
    assert stat.S_IMODE(os.stat(str(dest / "run.sh")).st_mode) == 0o755
    assert stat.S_IMODE(os.stat(str(dest / "pyproject.toml")).st_mode) == 0o644


def test_tar_archive_that_ends_with_a_zip_is_a_tar(tmp_path, releases, unpack):
    # A zip's end record at the end of the file (a wheel as the last member) does not make the
    # tar a zip: a wheelhouse is packed so.
    wheel = io.BytesIO()
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("demo/__init__.py", "")
    src = str(tmp_path / "wheelhouse.tar")
    with tarfile.open(src, "w") as archive:
        for name, data in (("requirements.txt", b"demo==1\n"), ("demo-1-py3-none-any.whl", wheel.getvalue())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    dest = releases / "w1"
    unpack(dict(src=src, remote_src=True, dest=str(dest)))
    assert sorted(os.listdir(str(dest))) == ["demo-1-py3-none-any.whl", "requirements.txt"]


@pytest.mark.parametrize("entries, message", [
    ([("../evil", b"x", 0o644)], "leads out of the release with '..'"),
    ([("/etc/evil", b"x", 0o644)], "has an absolute path"),
    ([("app/etc", ("sym", "/etc"), 0o777)], "points outside the release"),
    ([("app/up", ("sym", "../.."), 0o777)], "points outside the release"),
    # Each link stays inside on its name, but the second one is made through the first.
    ([("app/a/", None, 0o755), ("app/a/up", ("sym", ".."), 0o777), ("app/a/up/out", ("sym", ".."), 0o777)],
     "leads out of the release through a link"),
    ([("app/pipe", ("fifo", None), 0o644)], "is a device or FIFO"),
])
def test_unsafe_archives_are_refused_before_anything_is_left(tmp_path, releases, unpack, entries, message):
    src = make_tar(tmp_path / "bad.tar.gz", entries)
    result = unpack(dict(src=src, remote_src=True, dest=str(releases / "r"), strip_components=1))
    assert result["failed"] is True
    assert message in result["msg"]
    assert os.listdir(str(releases)) == []
    assert not (tmp_path / "out").exists() and not (tmp_path / "x").exists()


@pytest.mark.parametrize("args, message", [
    (dict(dest="{releases}/missing-parent/r"), "The parent directory of dest"),
    (dict(src="{tmp}/no-such.tar"), "The archive {tmp}/no-such.tar does not exist"),
    (dict(src="{tmp}/not-an-archive"), "is neither a tar nor a zip archive"),
    (dict(links=[{"path": "../shared", "target": "x"}]), "must be a path inside the release"),
    (dict(owner="no-such-user-here"), "Unknown owner or group"),
    (dict(strip_components=-1), "strip_components must be 0 or more"),
])
def test_bad_input_gets_a_clear_message(tmp_path, releases, unpack, args, message):
    (tmp_path / "not-an-archive").write_text("plain text\n")
    given = dict(src=release_tar(tmp_path), remote_src=True, dest=str(releases / "r"))
    given.update((k, v.format(tmp=tmp_path, releases=releases) if isinstance(v, str) else v) for k, v in args.items())
    result = unpack(given)
    assert result["failed"] is True
    assert message.format(tmp=tmp_path) in result["msg"]
    assert os.listdir(str(releases)) == []
