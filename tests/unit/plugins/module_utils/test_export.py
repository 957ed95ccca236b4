# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest

from ansible_collections.lockstep.poetry.plugins.module_utils._export import export_args
from ansible_collections.lockstep.poetry.plugins.module_utils._poetry_failures import explain_failure

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
