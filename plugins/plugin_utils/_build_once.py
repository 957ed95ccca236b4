# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kind of host a wheelhouse is built for, in the app role's build-once mode
(poetry_app_build_on): from what the host helper inspect_app says of the host's Python, the
wheel tags that Python installs, in pip's order of preference (packaging.tags, as pip has it),
and the environment its markers are evaluated in. Hosts with the same tags and environment share
one wheelhouse; a host with another Python or platform gets its own.

Pure functions, on the controller. Tests: tests/unit/plugins/plugin_utils/test_build_once.py.
Private to this collection: no compatibility promise.
"""

import hashlib
import json

try:
    from packaging import tags as _tags
except ImportError:  # ansible-core depends on packaging; ansible-test's import check has only the standard library
    _tags = None

# The oldest glibc that manylinux wheels target on each architecture (packaging's _manylinux).
_OLDEST_GLIBC = {"x86_64": 5, "i686": 5, "aarch64": 17, "armv7l": 17, "ppc64": 17, "ppc64le": 17, "s390x": 17}
# The names manylinux wheels had before PEP 600, for the glibc they stand for.
_LEGACY_MANYLINUX = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
_LEGACY_ARCHES = {17: set(_OLDEST_GLIBC), 12: {"x86_64", "i686"}, 5: {"x86_64", "i686"}}


def linux_platforms(machine, glibc):
    """The platform tags of a Linux host in packaging's order: linux_<machine>, then manylinux for
    its glibc ('2.36') down to the oldest its architecture has, each with its legacy name."""
    arch = machine.replace("-", "_").replace(".", "_")
    platforms = ["linux_%s" % arch]
    if glibc and arch in _OLDEST_GLIBC:
        major, minor = (int(part) for part in glibc.split(".")[:2])
        if major == 2:
            for version in range(minor, _OLDEST_GLIBC[arch] - 1, -1):
                platforms.append("manylinux_2_%d_%s" % (version, arch))
                if version in _LEGACY_MANYLINUX and arch in _LEGACY_ARCHES[version]:
                    platforms.append("%s_%s" % (_LEGACY_MANYLINUX[version], arch))
    return platforms


def target(platform, python_version):
    """{python_version, tags, marker_environment, description, digest} of a host's Python, from
    inspect_app's platform answer; digest names what decides a wheelhouse's content."""
    markers = platform["marker_environment"]
    version = tuple(int(part) for part in python_version.split(".")[:2])
    platforms = linux_platforms(markers["platform_machine"], platform["glibc"]) \
        if markers["sys_platform"] == "linux" else []
    if markers["implementation_name"] == "cpython":
        abi = "cp%d%d%s" % (version[0], version[1], "t" if platform["free_threaded"] else "")
        found = list(_tags.cpython_tags(python_version=version, abis=[abi], platforms=platforms))
        interpreter = "cp%d%d" % version
    else:
        found = list(_tags.generic_tags(interpreter=None, abis=None, platforms=platforms))
        interpreter = None
    found += list(_tags.compatible_tags(python_version=version, interpreter=interpreter, platforms=platforms))
    tags = [str(tag) for tag in found]
    description = "%s %s on %s%s" % (
        markers["platform_python_implementation"], python_version, markers["platform_machine"],
        ", glibc %s" % platform["glibc"] if platform["glibc"] else "")
    # What the wheels and the selection depend on: not the kernel's release or build.
    deciding = dict((name, value) for name, value in markers.items() if name not in ("platform_release", "platform_version"))
    return {
        "python_version": python_version,
        "tags": tags,
        "marker_environment": markers,
        "description": description,
        "digest": hashlib.sha256(json.dumps([tags, deciding], sort_keys=True).encode("utf-8")).hexdigest()[:8],
    }
