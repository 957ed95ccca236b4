# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""lockstep.poetry.source: the same sources as `poetry source add/remove` of Poetry 1.8.5 and
2.5.1 write (fixtures/source/poetry-*/ are their output on the fixtures/source/*.toml projects),
with the rest of the file left as it was."""

import os
import re
import shutil
import stat

import pytest

from ansible_collections.lockstep.poetry.plugins.module_utils import _toml
from ansible_collections.lockstep.poetry.plugins.modules import source
from ansible_collections.lockstep.poetry.tests.unit.plugins.modules.run_module import run_module

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "source")

MIRROR = dict(name="mirror", url="https://mirror.example.org/simple/", priority="explicit")
CASES = {
    # name: (project fixture, module arguments)
    "add-mirror": MIRROR,
    "remove-internal": dict(name="internal", state="absent"),
    "internal-supplemental": dict(name="internal", url="https://pypi.example.org/simple/",
                                  priority="supplemental"),
}


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return handle.read()


def project(tmp_path, layout):
    path = tmp_path / "pyproject.toml"
    shutil.copy(os.path.join(FIXTURES, layout + ".toml"), str(path))
    return path


def run(capsys, tmp_path, check_mode=False, diff=False, **args):
    return run_module(source, capsys, dict(args, project_path=str(tmp_path)), check_mode, diff)


@pytest.mark.parametrize("poetry, layout, case", [
    ("1.8.5", "layout-1.8", "add-mirror"),
    ("2.5.1", "layout-1.8", "add-mirror"),
    ("2.5.1", "layout-2", "add-mirror"),
    ("1.8.5", "with-sources", "add-mirror"),
    ("2.5.1", "with-sources", "add-mirror"),
    ("1.8.5", "with-sources", "remove-internal"),
    ("2.5.1", "with-sources", "remove-internal"),
    ("1.8.5", "with-sources", "internal-supplemental"),
    ("2.5.1", "with-sources", "internal-supplemental"),
])
def test_same_data_as_poetry_writes(capsys, tmp_path, poetry, layout, case):
    path = project(tmp_path, layout)
    result = run(capsys, tmp_path, **CASES[case])
    assert result["changed"] is True
    written = _toml.load(str(path))
    assert written == _toml.loads(fixture("poetry-%s/%s-%s.toml" % (poetry, layout, case)))
    again = run(capsys, tmp_path, **CASES[case])
    assert again["changed"] is False


def test_add_keeps_everything_else_as_it_was(capsys, tmp_path):
    path = project(tmp_path, "with-sources")
    run(capsys, tmp_path, **MIRROR)
    assert path.read_text() == fixture("with-sources.toml").replace(
        'priority = "supplemental"\n',
        'priority = "supplemental"\n\n'
        '[[tool.poetry.source]]\nname = "mirror"\nurl = "https://mirror.example.org/simple/"\n'
        'priority = "explicit"\n')


def test_add_to_a_poetry_2_project_without_tool_poetry(capsys, tmp_path):
    path = project(tmp_path, "layout-2")
    result = run(capsys, tmp_path, **MIRROR)
    text = path.read_text()
    assert text.startswith(fixture("layout-2.toml"))
    assert result["sources"] == ["mirror"]
    assert result["source"] == MIRROR


def test_update_changes_only_that_line(capsys, tmp_path):
    path = project(tmp_path, "with-sources")
    result = run(capsys, tmp_path, diff=True, **CASES["internal-supplemental"])
    expected = fixture("with-sources.toml").replace(
        'simple/"\npriority = "primary"', 'simple/"\npriority = "supplemental"')
    assert path.read_text() == expected
    assert result["diff"]["before"] == fixture("with-sources.toml")
    assert result["diff"]["after"] == expected


def test_remove_keeps_the_comment_and_other_sources(capsys, tmp_path):
    path = project(tmp_path, "with-sources")
    result = run(capsys, tmp_path, name="INTERNAL", state="absent")
    assert result["sources"] == ["PyPI"]
    assert result["source"] is None
    assert _toml.load(str(path))["tool"]["poetry"]["source"] == [{"name": "PyPI", "priority": "supplemental"}]
    assert "# Company index first, PyPI for the rest." in path.read_text()


def test_remove_last_source_removes_the_key(capsys, tmp_path):
    path = project(tmp_path, "with-sources")
    run(capsys, tmp_path, name="internal", state="absent")
    run(capsys, tmp_path, name="pypi", state="absent")
    assert "source" not in _toml.load(str(path))["tool"]["poetry"]
    assert run(capsys, tmp_path, name="pypi", state="absent")["changed"] is False


def test_check_mode_predicts_without_writing(capsys, tmp_path):
    path = project(tmp_path, "with-sources")
    (tmp_path / "poetry.lock").write_text("# lock\n")
    result = run(capsys, tmp_path, check_mode=True, diff=True, **MIRROR)
    assert result["changed"] is True
    assert result["lock_stale"] is True
    assert 'name = "mirror"' in result["diff"]["after"]
    assert path.read_text() == fixture("with-sources.toml")


def test_lock_stale_only_with_a_lock_and_a_change(capsys, tmp_path):
    project(tmp_path, "with-sources")
    assert run(capsys, tmp_path, **MIRROR)["lock_stale"] is False
    (tmp_path / "poetry.lock").write_text("# lock\n")
    assert run(capsys, tmp_path, **MIRROR)["lock_stale"] is False
    assert run(capsys, tmp_path, name="mirror", state="absent")["lock_stale"] is True


def test_names_compare_case_insensitively_and_keep_their_spelling(capsys, tmp_path):
    path = project(tmp_path, "with-sources")
    result = run(capsys, tmp_path, name="Internal", url="https://pypi.example.org/simple/")
    assert result["changed"] is False
    assert result["source"]["name"] == "internal"
    assert path.read_text() == fixture("with-sources.toml")


def test_pypi_is_spelled_as_poetry_does(capsys, tmp_path):
    path = project(tmp_path, "layout-1.8")
    result = run(capsys, tmp_path, name="pypi", priority="supplemental")
    assert result["source"] == {"name": "PyPI", "priority": "supplemental"}
    assert _toml.load(str(path))["tool"]["poetry"]["source"] == [{"name": "PyPI", "priority": "supplemental"}]


def test_missing_priority_counts_as_primary(capsys, tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text('[tool.poetry]\nname = "app"\n\n[[tool.poetry.source]]\nname = "a"\nurl = "https://a/"\n')
    result = run(capsys, tmp_path, name="a", url="https://a/", priority="primary")
    assert result["changed"] is False
    assert run(capsys, tmp_path, name="a", url="https://a/")["changed"] is False


def test_priority_replaces_deprecated_flags(capsys, tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text('[tool.poetry]\nname = "app"\n\n[[tool.poetry.source]]\nname = "a"\nurl = "https://a/"\n'
                    'default = true\n')
    assert run(capsys, tmp_path, name="a", priority="default")["changed"] is False
    result = run(capsys, tmp_path, name="a", priority="primary")
    assert result["changed"] is True
    assert result["source"] == {"name": "a", "url": "https://a/", "priority": "primary"}


def test_deprecated_priority_warns(capsys, tmp_path):
    project(tmp_path, "layout-1.8")
    result = run(capsys, tmp_path, name="corp", url="https://corp/simple/", priority="secondary")
    assert result["changed"] is True
    assert "Priority secondary is deprecated since Poetry 1.5 and refused by Poetry 2" in str(result["warnings"])


def test_url_kept_when_not_given(capsys, tmp_path):
    project(tmp_path, "with-sources")
    result = run(capsys, tmp_path, name="internal", priority="explicit")
    assert result["source"] == {"name": "internal", "url": "https://pypi.example.org/simple/",
                                "priority": "explicit"}


def test_other_keys_are_kept(capsys, tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text('[tool.poetry]\nname = "app"\n\n[[tool.poetry.source]]\nname = "links"\n'
                    'url = "https://links/"\nlinks = true\n')
    run(capsys, tmp_path, name="links", url="https://links2/")
    assert _toml.load(str(path))["tool"]["poetry"]["source"] == [
        {"name": "links", "url": "https://links2/", "links": True}]


def test_inline_array_stays_inline(capsys, tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text('[tool.poetry]\nname = "app"\nsource = [{name = "a", url = "https://a/"}]\n')
    run(capsys, tmp_path, name="b", url="https://b/", priority="supplemental")
    assert _toml.load(str(path))["tool"]["poetry"]["source"] == [
        {"name": "a", "url": "https://a/"},
        {"name": "b", "url": "https://b/", "priority": "supplemental"}]
    assert "[[tool.poetry.source]]" not in path.read_text()
    run(capsys, tmp_path, name="a", state="absent")
    assert _toml.load(str(path))["tool"]["poetry"]["source"] == [
        {"name": "b", "url": "https://b/", "priority": "supplemental"}]


def test_file_keeps_its_mode(capsys, tmp_path):
    path = project(tmp_path, "with-sources")
    os.chmod(str(path), 0o664)
    run(capsys, tmp_path, **MIRROR)
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o664


@pytest.mark.parametrize("args, message", [
    (dict(name="corp"), "^url is required to add the source corp$"),
    (dict(name="PyPI", url="https://pypi.org/simple/"), "^The URL of PyPI is fixed"),
    (dict(name=" "), "^name must not be empty$"),
    (dict(name="corp", url=""), "^url must not be empty$"),
    (dict(name="corp", url="https://deploy:s3cret@corp.example.org/simple/"),
     r"^The URL https://\*+@corp.example.org/simple/ embeds credentials.*lockstep.poetry.credentials$"),
    (dict(name="corp", url="https://s3cret@corp.example.org/simple/"), "embeds credentials"),
])
def test_refused(capsys, tmp_path, args, message):
    path = project(tmp_path, "with-sources")
    result = run(capsys, tmp_path, **args)
    assert result["failed"] is True
    assert re.search(message, result["msg"]), result["msg"]
    assert "s3cret" not in str(result)
    assert path.read_text() == fixture("with-sources.toml")


def test_not_a_project(capsys, tmp_path):
    result = run(capsys, tmp_path, **MIRROR)
    assert result["failed"] is True
    assert result["msg"] == "%s is not a Poetry project: %s/pyproject.toml does not exist" % (tmp_path, tmp_path)


@pytest.mark.parametrize("text, message", [
    ('[tool]\npoetry = 1\n', "^tool.poetry in pyproject.toml is not a table$"),
    ('[tool.poetry]\nsource = "x"\n', "^tool.poetry.source in pyproject.toml is not a list of tables$"),
    ('[[tool.poetry.source]]\nname = "a"\n[[tool.poetry.source]]\nname = "A"\n',
     "^pyproject.toml declares the source a 2 times$"),
    ('[tool.poetry\n', "^Cannot parse .*pyproject.toml: "),
])
def test_broken_projects(capsys, tmp_path, text, message):
    (tmp_path / "pyproject.toml").write_text(text)
    result = run(capsys, tmp_path, name="a", url="https://a/")
    assert result["failed"] is True
    assert re.search(message, result["msg"]), result["msg"]
