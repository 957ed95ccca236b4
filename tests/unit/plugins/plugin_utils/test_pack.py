# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How lockstep.poetry.app_inspect packs a copy source on the controller."""

from __future__ import annotations

import os
import tarfile

import pytest

from ansible_collections.lockstep.poetry.plugins.plugin_utils._pack import PackError, pack_directory


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    """Packed archives go to a cache of the test's own."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def directory(path):
    path.mkdir(parents=True)
    return path


def test_pack_is_reproducible_and_leaves_out_what_it_is_told(tmp_path):
    project = directory(tmp_path / "project")
    (project / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (project / "app.py").write_text("print('x')\n")
    directory(project / ".git")
    (project / ".git" / "HEAD").write_text("ref\n")
    directory(project / "__pycache__")
    (project / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"\0")

    first = pack_directory(str(project), ["__pycache__"])
    os.utime(str(project / "app.py"), (0, 0))  # times are not content
    second = pack_directory(str(project), ["__pycache__"])

    assert first["sha256"] == second["sha256"] and first["release_id"] == first["sha256"][:12]
    assert first["files"]["poetry.lock"] is None and len(first["files"]["pyproject.toml"]) == 40
    assert first["archive"] == second["archive"]
    assert os.path.dirname(first["archive"]) == str(tmp_path / "cache" / "lockstep.poetry.app")
    with tarfile.open(first["archive"]) as tar:
        assert sorted(tar.getnames()) == [first["release_id"], first["release_id"] + "/app.py",
                                          first["release_id"] + "/pyproject.toml"]
    (project / "app.py").write_text("print('y')\n")
    assert pack_directory(str(project), ["__pycache__"])["release_id"] != first["release_id"]


def test_archives_unused_for_a_day_are_removed(tmp_path):
    project = directory(tmp_path / "project")
    (project / "app.py").write_text("print('x')\n")
    old = pack_directory(str(project), [])["archive"]
    os.utime(old, (0, 0))
    (project / "app.py").write_text("print('y')\n")
    new = pack_directory(str(project), [])["archive"]
    assert os.path.exists(new) and not os.path.exists(old)


def test_pack_reports_a_missing_directory(tmp_path):
    with pytest.raises(PackError, match="^%s is not a directory on the controller$" % (tmp_path / "nothing")):
        pack_directory(str(tmp_path / "nothing"), [])
