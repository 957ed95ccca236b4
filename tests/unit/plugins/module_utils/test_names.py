# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest

from ansible_collections.lockstep.poetry.plugins.module_utils._names import canonical_name, setting_variable
from ansible_collections.lockstep.poetry.plugins.plugin_utils._helpers.inspect_poetry import canonical


@pytest.mark.parametrize("name, expected", [
    ("requests", "requests"),
    ("Requests", "requests"),
    ("requests_oauthlib", "requests-oauthlib"),
    ("zope.interface", "zope-interface"),
    ("Foo__Bar..-baz", "foo-bar-baz"),
    ("poetry-plugin-export>=1.8", "poetry-plugin-export"),
    (" Poetry_Plugin.Export[extra] ; python_version >= '3.9'", "poetry-plugin-export"),
])
def test_pep_503_names(name, expected):
    assert canonical_name(name) == expected
    # The copy in the host helper that cannot import the collection.
    assert canonical(name) == expected


@pytest.mark.parametrize("setting, expected", [
    ("http-basic.private.password", "POETRY_HTTP_BASIC_PRIVATE_PASSWORD"),
    ("http-basic.my-repo.username", "POETRY_HTTP_BASIC_MY_REPO_USERNAME"),
    ("repositories.corp.url", "POETRY_REPOSITORIES_CORP_URL"),
    ("pypi-token.pypi", "POETRY_PYPI_TOKEN_PYPI"),
])
def test_setting_variables(setting, expected):
    assert setting_variable(setting) == expected
