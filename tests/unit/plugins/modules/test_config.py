# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""lockstep.poetry.config on real files: what it writes, what it keeps, what it refuses."""

import os
import stat

import pytest

from ansible_collections.lockstep.poetry.plugins.module_utils import _poetry_config, _toml
from ansible_collections.lockstep.poetry.plugins.modules import config
from ansible_collections.lockstep.poetry.tests.unit.plugins.modules.run_module import run_module

# What `poetry config` wrote on a workstation, with a comment added by hand.
CONFIG = """\
# managed by hand until now
[virtualenvs]
in-project = true

[installer]
max-workers = 4
no-binary = ["rich", "httpx"]
"""


@pytest.fixture
def config_dir(tmp_path):
    return str(tmp_path / "pypoetry")


@pytest.fixture
def existing(config_dir):
    os.makedirs(config_dir)
    path = os.path.join(config_dir, "config.toml")
    with open(path, "w") as handle:
        handle.write(CONFIG)
    return path


def run(capsys, config_dir, check_mode=False, diff=False, **args):
    return run_module(config, capsys, dict(args, config_dir=config_dir), check_mode, diff)


def read(path):
    with open(path) as handle:
        return handle.read()


def test_new_file_is_created_0600_in_a_0700_directory(capsys, config_dir):
    result = run(capsys, config_dir, name="virtualenvs.create", value=False)
    path = os.path.join(config_dir, "config.toml")
    assert result["changed"] is True
    assert result["path"] == path
    assert (result["value"], result["previous"]) == (False, None)
    assert read(path) == "[virtualenvs]\ncreate = false\n"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(config_dir).st_mode) == 0o700


def test_check_mode_writes_nothing(capsys, config_dir):
    result = run(capsys, config_dir, check_mode=True, diff=True, name="virtualenvs.create", value=False)
    assert result["changed"] is True
    assert result["diff"]["before"] == ""
    assert result["diff"]["after"] == "virtualenvs.create = false\n"
    assert not os.path.exists(config_dir)


def test_edit_keeps_comments_and_other_settings(capsys, config_dir, existing):
    result = run(capsys, config_dir, diff=True, name="installer.max-workers", value="8")
    assert result["changed"] is True
    assert (result["previous"], result["value"]) == (4, 8)
    assert result["diff"] == {"before": "installer.max-workers = 4\n", "after": "installer.max-workers = 8\n",
                              "before_header": existing, "after_header": existing}
    assert read(existing) == CONFIG.replace("max-workers = 4", "max-workers = 8")


def test_unchanged_value_does_not_touch_the_file(capsys, config_dir, existing):
    before = os.stat(existing)
    result = run(capsys, config_dir, name="virtualenvs.in-project", value="yes")
    assert result["changed"] is False
    assert result["value"] is True
    assert os.stat(existing).st_mtime_ns == before.st_mtime_ns


def test_package_list_order_is_not_a_change(capsys, config_dir, existing):
    result = run(capsys, config_dir, name="installer.no-binary", value="HTTPX,rich")
    assert result["changed"] is False
    assert result["value"] == ["rich", "httpx"]


def test_existing_file_keeps_its_mode(capsys, config_dir, existing):
    os.chmod(existing, 0o644)
    run(capsys, config_dir, name="keyring.enabled", value=False)
    assert stat.S_IMODE(os.stat(existing).st_mode) == 0o644


def test_absent_removes_setting_and_emptied_table(capsys, config_dir, existing):
    result = run(capsys, config_dir, diff=True, name="virtualenvs.in-project", state="absent")
    assert result["changed"] is True
    assert (result["previous"], result["value"]) == (True, None)
    assert result["diff"]["after"] == ""
    assert "[virtualenvs]" not in read(existing)
    assert _toml.load(existing) == {"installer": {"max-workers": 4, "no-binary": ["rich", "httpx"]}}
    again = run(capsys, config_dir, name="virtualenvs.in-project", state="absent")
    assert again["changed"] is False


def test_absent_without_a_file_changes_nothing(capsys, config_dir):
    result = run(capsys, config_dir, name="virtualenvs.create", state="absent")
    assert result["changed"] is False
    assert not os.path.exists(config_dir)


def test_repository_url_with_a_dotted_name(capsys, config_dir):
    result = run(capsys, config_dir, name="repositories.corp.eu.url", value="https://pypi.example.org/legacy/")
    assert result["changed"] is True
    assert _toml.load(os.path.join(config_dir, "config.toml")) == {
        "repositories": {"corp.eu": {"url": "https://pypi.example.org/legacy/"}}}


def test_plugin_setting(capsys, config_dir):
    run(capsys, config_dir, name="plugins.pypi_mirror.url", value="https://mirror.example.org/simple/")
    assert _toml.load(os.path.join(config_dir, "config.toml")) == {
        "plugins": {"pypi_mirror": {"url": "https://mirror.example.org/simple/"}}}


def test_project_scope_writes_poetry_toml(capsys, tmp_path):
    project = tmp_path / "app"
    project.mkdir()
    (project / "pyproject.toml").write_text("[tool.poetry]\nname = 'app'\n")
    result = run_module(config, capsys, dict(name="virtualenvs.in-project", value=True, scope="project",
                                             project_path=str(project)))
    assert result["path"] == str(project / "poetry.toml")
    assert read(result["path"]) == "[virtualenvs]\nin-project = true\n"
    assert stat.S_IMODE(os.stat(result["path"]).st_mode) == 0o600


def test_project_scope_needs_a_project(capsys, tmp_path):
    result = run_module(config, capsys, dict(name="virtualenvs.in-project", value=True, scope="project",
                                             project_path=str(tmp_path)))
    assert result["failed"] is True
    assert result["msg"] == "%s is not a Poetry project: %s/pyproject.toml does not exist" % (tmp_path, tmp_path)


def test_project_scope_needs_project_path(capsys, config_dir):
    result = run(capsys, config_dir, name="virtualenvs.in-project", value=True, scope="project")
    assert result["failed"] is True
    assert result["msg"] == "scope is project but all of the following are missing: project_path"


def test_present_needs_a_value(capsys, config_dir):
    result = run(capsys, config_dir, name="virtualenvs.in-project")
    assert result["failed"] is True
    assert result["msg"] == "state is present but all of the following are missing: value"


def test_global_scope_uses_poetry_config_dir(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("POETRY_CONFIG_DIR", str(tmp_path / "from-env"))
    result = run_module(config, capsys, dict(name="virtualenvs.create", value=True))
    assert result["path"] == str(tmp_path / "from-env" / "config.toml")


@pytest.mark.parametrize("name, value, message", [
    ("virtualenvs.in_project", True, "Unknown Poetry setting virtualenvs.in_project. Valid settings: "),
    ("http-basic.corp.password", "x", "http-basic.corp.password is stored in Poetry's auth.toml"),
    ("certificates.corp.cert", "/etc/ssl/corp.pem", "certificates.corp.cert is stored in Poetry's auth.toml"),
    ("installer.max-workers", "many", "Invalid value 'many' for installer.max-workers"),
    ("repositories.corp.url", "https://me:s3cret@pypi.example.org/", "The URL https://********@pypi.example.org/ embeds"),
    ("plugins.pypi_mirror.url", "https://me:s3cret@mirror.example.org/", "The URL https://********@mirror.example.org/ embeds"),
])
def test_refused(capsys, config_dir, name, value, message):
    result = run(capsys, config_dir, name=name, value=value)
    assert result["failed"] is True
    assert result["msg"].startswith(message)
    assert "s3cret" not in str(result)
    assert not os.path.exists(config_dir)


def test_unparsable_file_fails_without_writing(capsys, config_dir, existing):
    with open(existing, "w") as handle:
        handle.write("[virtualenvs\n")
    result = run(capsys, config_dir, name="virtualenvs.create", value=True)
    assert result["failed"] is True
    assert result["msg"].startswith("Cannot parse %s: " % existing)
    assert read(existing) == "[virtualenvs\n"


def test_unwritable_directory_fails(capsys, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    result = run(capsys, str(blocker), name="virtualenvs.create", value=True)
    assert result["failed"] is True
    assert result["msg"].startswith("Cannot read %s/config.toml: " % blocker)


def test_setting_removed_in_poetry_2_warns(capsys, config_dir):
    result = run(capsys, config_dir, name="virtualenvs.prefer-active-python", value=True)
    assert result["changed"] is True
    assert ("virtualenvs.prefer-active-python: Poetry 2.0 replaced it with virtualenvs.use-poetry-python "
            "(of opposite meaning).") in str(result["warnings"])


def test_missing_tomlkit(capsys, config_dir, monkeypatch):
    monkeypatch.setattr(_toml, "HAS_TOMLKIT", False)
    monkeypatch.setattr(_toml, "TOMLKIT_IMPORT_ERROR", "ImportError: No module named 'tomlkit'")
    result = run(capsys, config_dir, name="virtualenvs.create", value=True)
    assert result["failed"] is True
    assert "tomlkit" in result["msg"]


def test_ensure_setting_returns_stored_values(existing):
    setting = _poetry_config.find_setting("installer.max-workers")
    assert config.ensure_setting(existing, setting, "present", 2, check_mode=True) == (True, 4, 2)
    assert config.ensure_setting(existing, setting, "present", 4, check_mode=False) == (False, 4, 4)
    assert config.ensure_setting(existing, setting, "absent", None, check_mode=False) == (True, 4, None)
    assert "max-workers" not in read(existing)
