# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import hashlib

from ansible_collections.lockstep.poetry.plugins.module_utils._hashing import file_digest


def test_digest_of_a_file_read_in_blocks(tmp_path):
    content = b"x" * (3 * (1 << 20) + 7)
    (tmp_path / "big").write_bytes(content)
    assert file_digest(str(tmp_path / "big")) == hashlib.sha256(content).hexdigest()
    assert file_digest(str(tmp_path / "big"), "sha1") == hashlib.sha1(content).hexdigest()


def test_no_digest_without_a_file(tmp_path):
    assert file_digest(str(tmp_path / "missing")) is None
    assert file_digest(str(tmp_path)) is None
