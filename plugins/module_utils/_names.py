# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Package names as the collection compares them, and the environment variable names Poetry reads
its settings from. Private to this collection: no compatibility promise."""

import re

# A requirement string starts with the distribution's name: "poetry-plugin-export>=1.8" -> ...
_NAME_RE = re.compile(r"[A-Za-z0-9._-]*")


def canonical_name(name):
    """The name normalised as in PEP 503 (what Poetry and pip compare, and what Poetry writes in
    package lists): Requests, requests_oauthlib -> requests, requests-oauthlib. A requirement
    string gives its distribution's name: 'Poetry_Plugin.Export>=1.8' -> poetry-plugin-export."""
    return re.sub(r"[-_.]+", "-", _NAME_RE.match(name.strip()).group(0)).lower()


def setting_variable(setting):
    """The environment variable that overrides a dotted Poetry setting, as Poetry 1.8 and 2.x
    spell it: http-basic.my-repo.password -> POETRY_HTTP_BASIC_MY_REPO_PASSWORD."""
    return "POETRY_" + re.sub(r"[^A-Z0-9]", "_", setting.upper())
