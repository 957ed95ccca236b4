# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest

from ansible_collections.lockstep.poetry.plugins.module_utils._wheel_files import (
    WheelFormatError, destination, dist_info_dir, site_modules)

DIST_INFO = "demo-1.0.dist-info"


@pytest.mark.parametrize("name, expected", [
    # The wheel's top goes to site-packages.
    ("demo/__init__.py", ("purelib", "demo/__init__.py")),
    (DIST_INFO + "/METADATA", ("purelib", DIST_INFO + "/METADATA")),
    # .data/SCHEME/ goes where the scheme goes.
    ("demo-1.0.data/scripts/demo-tool", ("scripts", "demo-tool")),
    ("demo-1.0.data/platlib/demo_ext.py", ("platlib", "demo_ext.py")),
    ("demo-1.0.data/headers/demo.h", ("headers", "demo.h")),
    # Directory entries, and the RECORD that the installer writes anew, are not installed as they are.
    ("demo/", None),
    (DIST_INFO + "/RECORD", None),
    (DIST_INFO + "/RECORD.jws", None),
])
def test_destination(name, expected):
    assert destination(name, DIST_INFO) == expected


def test_site_modules_are_the_python_files_site_packages_gets():
    names = ["demo/__init__.py", "demo/data.json", "demo-1.0.data/purelib/demo_extra.py",
             "demo-1.0.data/scripts/demo-tool.py", DIST_INFO + "/METADATA", DIST_INFO + "/RECORD"]
    assert site_modules(names) == {"demo/__init__.py": "demo/__init__.py",
                                   "demo-1.0.data/purelib/demo_extra.py": "demo_extra.py"}


@pytest.mark.parametrize("names", [["demo.py"], ["a-1.dist-info/METADATA", "b-1.dist-info/METADATA"]])
def test_a_wheel_has_one_dist_info_directory(names):
    with pytest.raises(WheelFormatError):
        dist_info_dir(names)
