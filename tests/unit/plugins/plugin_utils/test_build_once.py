# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import importlib.util
import os
import sys

import pytest
from packaging import tags

from ansible_collections.lockstep.poetry.plugins.module_utils._markers import ENVIRONMENT_CODE
from ansible_collections.lockstep.poetry.plugins.plugin_utils import _build_once
from ansible_collections.lockstep.poetry.plugins.plugin_utils._helper import helper_path


def inspect_app():
    spec = importlib.util.spec_from_file_location("inspect_app", helper_path("inspect_app"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not sys.platform.startswith("linux") or not hasattr(os, "confstr"), reason="a glibc Linux")
def test_tags_of_this_python_are_those_pip_uses():
    # What the helper says of this Python, turned into tags on the controller: packaging's own
    # list for the running interpreter, in the same order.
    found = _build_once.target(inspect_app().python_platform(ENVIRONMENT_CODE), "%d.%d" % sys.version_info[:2])
    assert found["tags"] == [str(tag) for tag in tags.sys_tags()]


@pytest.mark.parametrize("machine, glibc, expected", [
    ("x86_64", "2.17", ["linux_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"]),
    ("aarch64", "2.18", ["linux_aarch64", "manylinux_2_18_aarch64", "manylinux_2_17_aarch64", "manylinux2014_aarch64"]),
    ("x86_64", None, ["linux_x86_64"]),
])
def test_linux_platforms(machine, glibc, expected):
    found = _build_once.linux_platforms(machine, glibc)
    assert found[:len(expected)] == expected
    if machine == "x86_64" and glibc:
        assert found[-2:] == ["manylinux_2_5_x86_64", "manylinux1_x86_64"]


def platform(python_version="3.11.2", machine="x86_64", glibc="2.36", release="6.1.0-1"):
    return {
        "marker_environment": {
            "implementation_name": "cpython", "implementation_version": python_version, "os_name": "posix",
            "platform_machine": machine, "platform_release": release, "platform_system": "Linux",
            "platform_version": "#1 SMP", "python_full_version": python_version,
            "platform_python_implementation": "CPython", "python_version": python_version.rsplit(".", 1)[0],
            "sys_platform": "linux",
        },
        "soabi": "cpython-311-x86_64-linux-gnu", "free_threaded": False, "glibc": glibc,
    }


def test_hosts_of_one_kind_share_a_digest_and_others_do_not():
    one = _build_once.target(platform(), "3.11")
    # Another kernel: the same kind of host.
    assert _build_once.target(platform(release="6.12.0-9"), "3.11")["digest"] == one["digest"]
    assert _build_once.target(platform(python_version="3.13.5"), "3.13")["digest"] != one["digest"]
    assert _build_once.target(platform(glibc="2.41"), "3.11")["digest"] != one["digest"]
    assert _build_once.target(platform(machine="aarch64"), "3.11")["digest"] != one["digest"]
    assert one["description"] == "CPython 3.11 on x86_64, glibc 2.36"
