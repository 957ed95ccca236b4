# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""lockstep.poetry.app_release's action with its python option: an archive from the controller
is transferred and unpacked by module_utils/_release.py, run here (see test_app_release_unpack.py
for the unpacking itself)."""

from __future__ import annotations

import hashlib
import os
import sys
import tarfile

from ansible_collections.lockstep.poetry.plugins.action import app_release
from ansible_collections.lockstep.poetry.tests.unit.plugins.action.local_connection import local_action, run_action

LOCK = b"# locked\n"


def archive(tmp_path):
    (tmp_path / "src" / "shopfront-1.0").mkdir(parents=True, exist_ok=True)
    (tmp_path / "src" / "shopfront-1.0" / "poetry.lock").write_bytes(LOCK)
    with tarfile.open(str(tmp_path / "shopfront-1.0.tar"), "w") as tar:
        tar.add(str(tmp_path / "src" / "shopfront-1.0"), arcname="shopfront-1.0")
    return "shopfront-1.0.tar"


def unpack(tmp_path, check_mode=False, pipelining=False, **args):
    task = dict(src=archive(tmp_path), dest=str(tmp_path / "releases" / "r1"), strip_components=1,
                checksums=["poetry.lock"], python=sys.executable)
    task.update(args)
    plugin = local_action(app_release.ActionModule, tmp_path, task, check_mode, pipelining=pipelining)
    result = run_action(plugin)
    result.update(commands=plugin.commands, tmp_paths_made=plugin.tmp_paths_made)
    return result


def test_unpacks_an_archive_from_the_controller(tmp_path):
    (tmp_path / "releases").mkdir()
    result = unpack(tmp_path)
    assert not result.get("failed"), result
    assert result["changed"] is True and result["entries"] == 1
    assert result["checksums"] == {"poetry.lock": hashlib.sha1(LOCK).hexdigest()}
    assert (tmp_path / "releases" / "r1" / "poetry.lock").read_bytes() == LOCK
    assert not (tmp_path / "remote-tmp").exists()


def test_check_mode_writes_nothing(tmp_path):
    (tmp_path / "releases").mkdir()
    result = unpack(tmp_path, check_mode=True)
    assert result["changed"] is True and result["checksums"]["poetry.lock"] is not None
    assert os.listdir(str(tmp_path / "releases")) == []


def test_failures_name_the_archive_as_the_task_does(tmp_path):
    result = unpack(tmp_path)
    assert result["failed"] is True
    assert result["msg"] == "The parent directory of dest (%s) does not exist" % (tmp_path / "releases")
    result = unpack(tmp_path, strip_components="many")
    assert result["failed"] is True and "strip_components" in result["msg"]


def test_a_python_that_does_not_run(tmp_path):
    (tmp_path / "releases").mkdir()
    result = unpack(tmp_path, python="/nonexistent/python3")
    assert result["failed"] is True
    assert result["msg"].startswith("Could not unpack shopfront-1.0.tar with python '/nonexistent/python3': ")


def test_pipelined_the_helper_is_not_transferred(tmp_path):
    (tmp_path / "releases").mkdir()
    result = unpack(tmp_path, pipelining=True)
    assert not result.get("failed"), result
    assert (tmp_path / "releases" / "r1" / "poetry.lock").read_bytes() == LOCK
    # The archive still goes to the temporary directory; the helper goes to Python's input.
    [(command, with_input)] = result["commands"]
    assert command == "%s -I -S -" % sys.executable and with_input
    assert result["tmp_paths_made"] == 1 and not (tmp_path / "remote-tmp").exists()


def test_an_archive_on_the_host_needs_no_temporary_directory(tmp_path):
    (tmp_path / "releases").mkdir()
    result = unpack(tmp_path, pipelining=True, src=str(tmp_path / archive(tmp_path)), remote_src=True)
    assert not result.get("failed"), result
    assert result["checksums"] == {"poetry.lock": hashlib.sha1(LOCK).hexdigest()}
    assert result["tmp_paths_made"] == 0 and len(result["commands"]) == 1
