# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
import pytest

from ansible_collections.lockstep.poetry.plugins.module_utils._programs import missing_programs, missing_programs_message


def test_missing_programs_are_those_bin_has_no_file_for(tmp_path):
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "gunicorn").write_text("#!/bin/sh\n")
    (tmp_path / "bin" / "python").symlink_to("/nonexistent/python3")
    assert missing_programs(str(tmp_path), ["gunicorn", "celery", "python"]) == ["celery", "python"]
    assert missing_programs(str(tmp_path), []) == []


@pytest.mark.parametrize("names, expected", [
    (["gunicorn"], "The services run gunicorn, which the virtualenv py3.11-ab12 does not provide (is the package "
                   "that provides it a dependency in the groups installed?)"),
    (["celery", "my tool"], "The services run celery, 'my tool', which the virtualenv py3.11-ab12 does not provide "
                            "(is the package that provides them a dependency in the groups installed?)"),
])
def test_missing_programs_message_names_them_quoted(names, expected):
    assert missing_programs_message(names, "py3.11-ab12") == expected
