# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The services' programs that an application's virtualenv must provide (lockstep.poetry.app):
looked up in its bin by the host helpers (inspect_app in each ready virtualenv, venv_packages
before it marks a new one ready), and the one message for those it lacks, which the deploy
planner raises too (plugin_utils/_app_plan.py).
Private to this collection: no compatibility promise."""

import os
from shlex import quote


def missing_programs(venv, names):
    """Those of names (programs without a '/') that the virtualenv at venv has no file for in bin."""
    return [name for name in names if not os.path.exists(os.path.join(venv, "bin", name))]


def missing_programs_message(names, venv):
    """Why a virtualenv (venv: its key, the name of its directory) cannot serve services that run
    the programs names, which it does not provide."""
    return ("The services run %s, which the virtualenv %s does not provide (is the package that provides %s a "
            "dependency in the groups installed?)" % (", ".join(quote(name) for name in names), venv,
                                                      "it" if len(names) == 1 else "them"))
