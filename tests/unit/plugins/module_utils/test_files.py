# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
import grp
import os
import pwd
import stat

import pytest

from ansible_collections.lockstep.poetry.plugins.module_utils._files import account_ids, missing_accounts, replace_file


def test_replace_file_writes_the_whole_text_with_its_mode(tmp_path):
    path = tmp_path / "record.json"
    path.write_text("old")
    replace_file(str(path), '{"a": 1}\n')
    assert path.read_text() == '{"a": 1}\n'
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    replace_file(str(path), "x", mode=0o600)
    assert path.read_text() == "x" and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert os.listdir(str(tmp_path)) == ["record.json"]


def test_replace_file_that_fails_leaves_the_old_file_and_nothing_beside_it(tmp_path):
    path = tmp_path / "record.json"
    path.write_text("old")
    with pytest.raises(TypeError):
        replace_file(str(path), b"not text")
    assert path.read_text() == "old"
    assert os.listdir(str(tmp_path)) == ["record.json"]


def test_account_ids_of_the_accounts_the_host_has():
    user, group = pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name
    assert account_ids(user, group) == (os.getuid(), os.getgid())
    assert account_ids("lockstep-no-such-user", group) == (None, os.getgid())
    assert account_ids(user, "lockstep-no-such-group") == (os.getuid(), None)


@pytest.mark.parametrize("uid, gid, said", [
    (0, 0, ""),
    (None, 0, "the host has no user app"),
    (0, None, "the host has no group web"),
    (None, None, "the host has no user app and no group web"),
])
def test_missing_accounts_are_named(uid, gid, said):
    assert missing_accounts("app", "web", uid, gid) == said
