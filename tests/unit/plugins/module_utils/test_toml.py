# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading, editing and atomically writing TOML (module_utils/_toml.py, its reading half in _toml_read.py).

Also meant to pass with tomlkit 0.6.0 (Debian 11's python3-tomlkit) on Python 3.9, the oldest
combination the modules support.
"""

import datetime
import os
import stat

import pytest

from ansible_collections.lockstep.poetry.plugins.module_utils import _toml, _toml_read

CONFIG = """\
# Poetry settings for the build hosts
cache-dir = "/var/cache/pypoetry"

[virtualenvs]
# keep virtualenvs next to the code
in-project = true
create = true

[virtualenvs.options]
no-pip = false
"""


@pytest.fixture(params=["default", "tomlkit"])
def reader(request, monkeypatch):
    """Run reading tests with the best parser available, and again with tomlkit alone (what
    Python 3.9 hosts without tomli use)."""
    if request.param == "tomlkit":
        monkeypatch.setattr(_toml_read, "READER", None)
        monkeypatch.setattr(_toml_read, "FALLBACK", _toml.tomlkit)
    return request.param


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_load_returns_plain_data(tmp_path, reader):
    path = write(tmp_path / "config.toml", 'when = 1979-05-27T07:32:00Z\nlist = [1, "a", {b = 1.5}]\n' + CONFIG)
    data = _toml.load(path)
    assert data == {
        "cache-dir": "/var/cache/pypoetry",
        "virtualenvs": {"in-project": True, "create": True, "options": {"no-pip": False}},
        "when": datetime.datetime(1979, 5, 27, 7, 32, tzinfo=datetime.timezone.utc),
        "list": [1, "a", {"b": 1.5}],
    }
    assert_plain(data)


PLAIN_TYPES = (dict, list, str, int, float, bool, datetime.datetime)


def assert_plain(value):
    """Builtin types only, not tomlkit's subclasses of them."""
    assert type(value) in PLAIN_TYPES, "%r is a %s" % (value, type(value))
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    for child in children:
        assert_plain(child)


def test_load_missing_file(tmp_path, reader):
    path = str(tmp_path / "missing.toml")
    assert _toml.load(path, missing_ok=True) == {}
    with pytest.raises(_toml.TomlError) as error:
        _toml.load(path)
    assert error.value.msg == "%s does not exist" % path
    assert error.value.to_fail_kwargs() == {"msg": error.value.msg, "path": path}


def test_load_invalid_toml(tmp_path, reader):
    path = write(tmp_path / "broken.toml", "[virtualenvs\ncreate = true\n")
    with pytest.raises(_toml.TomlError) as error:
        _toml.load(path)
    assert error.value.msg.startswith("Cannot parse %s: " % path)
    assert error.value.path == path


def test_load_without_any_parser(monkeypatch):
    monkeypatch.setattr(_toml_read, "READER", None)
    monkeypatch.setattr(_toml_read, "FALLBACK", None)
    with pytest.raises(_toml.TomlError, match="needs tomllib"):
        _toml.loads("a = 1")


def test_document_round_trip_keeps_comments_and_layout(tmp_path):
    path = write(tmp_path / "config.toml", CONFIG)
    document = _toml.load_document(path)
    assert _toml.dumps(document) == CONFIG


def test_load_document_missing_file(tmp_path):
    assert _toml.dumps(_toml.load_document(str(tmp_path / "none.toml"), missing_ok=True)) == ""
    with pytest.raises(_toml.TomlError, match="does not exist"):
        _toml.load_document(str(tmp_path / "none.toml"))


def test_parse_document_invalid():
    with pytest.raises(_toml.TomlError, match="^Cannot parse TOML text: "):
        _toml.parse_document("a = = 1")


def test_parse_document_without_tomlkit(monkeypatch):
    monkeypatch.setattr(_toml, "HAS_TOMLKIT", False)
    with pytest.raises(_toml.TomlError, match="needs the Python library tomlkit"):
        _toml.parse_document("a = 1")


def test_get_path():
    data = {"a": {"b": {"c": 1}}, "x": 1}
    assert _toml.get_path(data, ["a", "b", "c"]) == 1
    assert _toml.get_path(data, ["a", "z"], "default") == "default"
    assert _toml.get_path(data, ["x", "y"]) is None


def test_set_path_edits_in_place_and_creates_tables():
    document = _toml.parse_document(CONFIG)
    _toml.set_path(document, ["virtualenvs", "create"], False)
    _toml.set_path(document, ["installer", "max-workers"], 4)
    _toml.set_path(document, ["repositories", "corp.mirror", "url"], "https://pypi.example.org/simple/")
    text = _toml.dumps(document)
    assert "# keep virtualenvs next to the code\nin-project = true\ncreate = false\n" in text
    assert text.startswith("# Poetry settings for the build hosts\n")
    assert _toml.loads(text) == {
        "cache-dir": "/var/cache/pypoetry",
        "virtualenvs": {"in-project": True, "create": False, "options": {"no-pip": False}},
        "installer": {"max-workers": 4},
        "repositories": {"corp.mirror": {"url": "https://pypi.example.org/simple/"}},
    }


def test_set_path_through_a_value_fails():
    document = _toml.parse_document(CONFIG)
    with pytest.raises(_toml.TomlError, match="^cache-dir is not a table$"):
        _toml.set_path(document, ["cache-dir", "x"], 1)


def test_remove_path_prunes_emptied_tables_only():
    document = _toml.parse_document(CONFIG)
    assert _toml.remove_path(document, ["virtualenvs", "options", "no-pip"]) is True
    assert _toml.loads(_toml.dumps(document)) == {
        "cache-dir": "/var/cache/pypoetry",
        "virtualenvs": {"in-project": True, "create": True},
    }
    assert _toml.remove_path(document, ["virtualenvs", "in-project"]) is True
    assert _toml.remove_path(document, ["virtualenvs", "create"]) is True
    assert _toml.loads(_toml.dumps(document)) == {"cache-dir": "/var/cache/pypoetry"}
    assert _toml.remove_path(document, ["cache-dir"]) is True
    assert _toml.dumps(document).strip() == "# Poetry settings for the build hosts"


def test_remove_path_missing():
    document = _toml.parse_document(CONFIG)
    assert _toml.remove_path(document, ["virtualenvs", "path"]) is False
    assert _toml.remove_path(document, ["cache-dir", "x"]) is False
    assert _toml.remove_path(document, ["nothing"]) is False
    assert _toml.dumps(document) == CONFIG


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_write_atomic_new_file_mode_and_parents(tmp_path):
    path = str(tmp_path / "new" / "dir" / "auth.toml")
    _toml.write_atomic(path, "a = 1\n")
    with open(path) as handle:
        assert handle.read() == "a = 1\n"
    assert mode_of(path) == 0o600
    assert mode_of(str(tmp_path / "new" / "dir")) == 0o700
    assert os.stat(path).st_uid == os.geteuid()
    assert os.listdir(str(tmp_path / "new" / "dir")) == ["auth.toml"]


def test_write_atomic_new_file_other_mode(tmp_path):
    path = str(tmp_path / "poetry.toml")
    _toml.write_atomic(path, "a = 1\n", mode=0o644)
    assert mode_of(path) == 0o644


def test_write_atomic_keeps_mode_of_existing_file(tmp_path):
    path = write(tmp_path / "config.toml", "old = 1\n")
    os.chmod(path, 0o640)
    inode = os.stat(path).st_ino
    _toml.write_atomic(path, "new = 2\n")
    assert mode_of(path) == 0o640
    assert os.stat(path).st_ino != inode, "replaced by rename, not rewritten in place"
    with open(path) as handle:
        assert handle.read() == "new = 2\n"


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's owner needs root")
def test_write_atomic_keeps_owner_of_existing_file(tmp_path):
    path = write(tmp_path / "config.toml", "old = 1\n")
    os.chown(path, 1234, 5678)
    _toml.write_atomic(path, "new = 2\n")
    assert (os.stat(path).st_uid, os.stat(path).st_gid) == (1234, 5678)


def test_write_atomic_follows_symlinks(tmp_path):
    target = write(tmp_path / "real.toml", "old = 1\n")
    link = tmp_path / "link.toml"
    link.symlink_to(target)
    _toml.write_atomic(str(link), "new = 2\n")
    assert link.is_symlink()
    with open(target) as handle:
        assert handle.read() == "new = 2\n"


def test_write_atomic_failure_leaves_no_temporary_file(tmp_path, monkeypatch):
    path = write(tmp_path / "config.toml", "old = 1\n")

    def refuse(source, destination):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(_toml.os, "rename", refuse)
    with pytest.raises(_toml.TomlError, match="^Cannot write .*config.toml: .*Read-only file system"):
        _toml.write_atomic(path, "new = 2\n")
    assert os.listdir(str(tmp_path)) == ["config.toml"]
    with open(path) as handle:
        assert handle.read() == "old = 1\n"


def test_write_atomic_unwritable_directory(tmp_path):
    directory = tmp_path / "file-not-dir"
    directory.write_text("")
    with pytest.raises(_toml.TomlError, match="^Cannot write "):
        _toml.write_atomic(str(directory / "config.toml"), "a = 1\n")


SOURCES = ["tool", "poetry", "source"]
WITH_SOURCES = '[tool.poetry]\nname = "app"\n\n[[tool.poetry.source]]\nname = "a"\nurl = "https://a/"\n'


def test_append_table_creates_the_array():
    document = _toml.parse_document('[tool.poetry]\nname = "app"\n')
    _toml.append_table(document, SOURCES, [("name", "a"), ("url", "https://a/")])
    assert _toml.loads(_toml.dumps(document)) == {"tool": {"poetry": {"name": "app", "source": [
        {"name": "a", "url": "https://a/"}]}}}


def test_append_table_after_a_table_that_ends_the_file():
    document = _toml.parse_document(WITH_SOURCES)
    _toml.append_table(document, SOURCES, [("name", "b"), ("url", "https://b/"), ("priority", "explicit")])
    assert _toml.dumps(document) == (WITH_SOURCES + '\n[[tool.poetry.source]]\nname = "b"\nurl = "https://b/"\n'
                                     'priority = "explicit"\n\n')


def test_remove_item_of_an_array_of_tables_is_rendered():
    """tomlkit 0.6.0 keeps rendering a table deleted from an array of tables."""
    document = _toml.parse_document(WITH_SOURCES + '\n[[tool.poetry.source]]\nname = "b"\nurl = "https://b/"\n')
    _toml.remove_item(document, SOURCES, 0)
    assert _toml.dumps(document) == '[tool.poetry]\nname = "app"\n\n[[tool.poetry.source]]\nname = "b"\nurl = "https://b/"\n'
    _toml.remove_item(document, SOURCES, 0)
    assert _toml.loads(_toml.dumps(document)) == {"tool": {"poetry": {"name": "app"}}}


def test_inline_arrays_stay_inline():
    document = _toml.parse_document('[tool.poetry]\nsource = [{name = "a", url = "https://a/"}]\n')
    _toml.append_table(document, SOURCES, [("name", "b"), ("url", "https://b/")])
    _toml.remove_item(document, SOURCES, 0)
    text = _toml.dumps(document)
    assert "[[" not in text
    assert _toml.loads(text) == {"tool": {"poetry": {"source": [{"name": "b", "url": "https://b/"}]}}}
