# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest

from ansible_collections.lockstep.poetry.plugins.module_utils._export import export_args, export_text, required_plugins
from ansible_collections.lockstep.poetry.plugins.module_utils._install import Project
from ansible_collections.lockstep.poetry.plugins.module_utils._poetry_failures import explain_failure
from ansible_collections.lockstep.poetry.plugins.module_utils._runner import PoetryError

from ansible_collections.lockstep.poetry.tests.unit.plugins.module_utils.captured import Captured

NOTHING = {"only": None, "with_groups": None, "without_groups": None, "extras": None, "all_extras": False}


@pytest.mark.parametrize("selection, with_hashes, output_format, expected", [
    (NOTHING, True, "requirements.txt", []),
    (NOTHING, False, "requirements.txt", ["--without-hashes"]),
    (NOTHING, True, "constraints.txt", []),
    (dict(NOTHING, only=["main", "docs"], extras=["fancy"]), True, "requirements.txt",
     ["--only=main", "--only=docs", "--extras=fancy"]),
    (dict(NOTHING, with_groups=["docs"], without_groups=["dev"], all_extras=True), False, "requirements.txt",
     ["--without-hashes", "--with=docs", "--without=dev", "--all-extras"]),
])
def test_export_command(selection, with_hashes, output_format, expected):
    assert export_args("/tmp/x/requirements.txt", selection, with_hashes, output_format) == [
        "export", "--format=%s" % output_format, "--output=/tmp/x/requirements.txt"] + expected


def test_a_missing_plugin_is_named_with_the_role_variable_that_installs_it():
    captured = Captured("2.5.1", "export-no-plugin")
    message = explain_failure(captured.stdout, captured.stderr)
    assert captured.rc == 1
    assert "poetry-plugin-export" in message
    assert "lockstep.poetry.poetry role's poetry_plugins" in message


class FailingRunner:
    """A runner whose Poetry fails as captured, with the runner's own explanation."""

    def __init__(self, captured):
        self.captured = captured

    def run(self, args, cwd=None):
        reason = explain_failure(self.captured.stdout, self.captured.stderr)
        raise PoetryError("poetry %s failed: %s" % (" ".join(args), reason), cmd=["poetry"] + args,
                          rc=self.captured.rc, stdout=self.captured.stdout, stderr=self.captured.stderr)


def project_requiring(tmp_path, plugins):
    lines = ['[tool.poetry]', 'name = "demo-app"', '', '[tool.poetry.requires-plugins]']
    lines += ['"%s" = ">=1"' % name for name in plugins]
    (tmp_path / "pyproject.toml").write_text("\n".join(lines) + "\n")
    (tmp_path / "poetry.lock").write_text("")
    return Project(str(tmp_path))


def test_required_plugins_are_read_by_their_pep503_names(tmp_path):
    assert required_plugins(project_requiring(tmp_path, ["Poetry_Plugin.Export", "lockstep-test-plugin"])) == [
        "lockstep-test-plugin", "poetry-plugin-export"]
    (tmp_path / "pyproject.toml").write_text('[tool.poetry]\nname = "demo-app"\n')
    assert required_plugins(Project(str(tmp_path))) == []
    (tmp_path / "pyproject.toml").write_text("[tool.poetry\n")
    assert required_plugins(Project(str(tmp_path))) == []


def test_a_project_that_requires_the_export_plugin_is_told_to_install_the_project_first(tmp_path):
    """Poetry 2.x fills the project's .poetry/plugins only in install or sync; export never does."""
    project = project_requiring(tmp_path, ["lockstep-test-plugin", "poetry-plugin-export"])
    with pytest.raises(PoetryError) as error:
        export_text(FailingRunner(Captured("2.5.1", "export-no-plugin")), project, NOTHING)
    assert error.value.msg.startswith("poetry export failed: this Poetry has no export command: the project "
                                      "requires the plugin poetry-plugin-export ([tool.poetry.requires-plugins])")
    assert "lockstep.poetry.install" in error.value.msg
    assert "poetry_plugins: [poetry-plugin-export]" in error.value.msg
    assert error.value.rc == 1 and "does not exist" in error.value.stderr


def test_a_project_that_requires_other_plugins_gets_the_runners_explanation(tmp_path):
    project = project_requiring(tmp_path, ["lockstep-test-plugin"])
    with pytest.raises(PoetryError) as error:
        export_text(FailingRunner(Captured("2.5.1", "export-no-plugin")), project, NOTHING)
    assert "which Poetry 2.x no longer installs with itself" in error.value.msg
