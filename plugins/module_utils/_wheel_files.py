# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the files of a wheel go when it is installed, as the binary distribution format (the
PyPA's specification) says, and what a wheelhouse holds beside its wheels: the one definition
that the builder of a wheelhouse (_wheelhouse.py, which also compiles the modules a wheel installs
into site-packages) and the host helper that installs it (plugin_utils/_helpers/venv_packages.py)
share. Standard library only: it travels with the helper. Private to this collection: no
compatibility promise."""

# What a wheelhouse says of itself (its packages with the lock's sha256 of each file, and for
# which Python its bytecode was compiled), beside its wheels.
MANIFEST = "wheelhouse.json"
# Where it holds the bytecode its builder compiled: BYTECODE/<wheel's file name>.zip, which holds
# each .pyc file at its path in site-packages.
BYTECODE = "bytecode"

# The schemes of a wheel's .data directory whose files go into site-packages.
SITE_SCHEMES = ("purelib", "platlib")
# The files of a .dist-info directory that are not installed as they are: RECORD is written anew.
NOT_INSTALLED = ("RECORD", "RECORD.jws", "RECORD.p7s")


class WheelFormatError(Exception):
    """A wheel that is not laid out as the format says; the message says how."""


def dist_info_dir(names):
    """The .dist-info directory of a wheel whose members are names; WheelFormatError unless there
    is exactly one."""
    found = set(name.split("/")[0] for name in names if name.split("/")[0].endswith(".dist-info"))
    if len(found) != 1:
        raise WheelFormatError("it has %d .dist-info directories" % len(found))
    return found.pop()


def destination(name, dist_info):
    """(scheme, path within the scheme) of the member name of a wheel whose .dist-info directory is
    dist_info; None for a directory entry or a file that is not installed as it is. The files at
    the wheel's top go to purelib (site-packages), those of .data/SCHEME/ where SCHEME goes."""
    if name.endswith("/") or name in ["%s/%s" % (dist_info, other) for other in NOT_INSTALLED]:
        return None
    data_dir = dist_info[:-len(".dist-info")] + ".data/"
    if name.startswith(data_dir):
        scheme, _sep, rest = name[len(data_dir):].partition("/")
        return scheme, rest
    return "purelib", name


def site_modules(names):
    """{member name: path in site-packages} of the Python modules (.py files) that a wheel whose
    members are names installs into site-packages: those compiled to bytecode."""
    dist_info = dist_info_dir(names)
    modules = {}
    for name in names:
        where = destination(name, dist_info)
        if where and where[0] in SITE_SCHEMES and where[1].endswith(".py"):
            modules[name] = where[1]
    return modules
