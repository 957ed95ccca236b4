# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest

from ansible_collections.lockstep.poetry.plugins.module_utils._publish import repository_settings

URL = "https://nexus.example.com/repository/corp/"
CONFIG = {"repositories": {"corp": {"url": URL}}}
AUTH = {"http-basic": {"corp": {"username": "ci", "password": "from-file"}}}


@pytest.mark.parametrize("name, environ, documents, expected", [
    pytest.param("corp", {}, [{}, AUTH, CONFIG], {"url": URL, "auth": ("ci", "from-file"), "tls": {}},
                 id="URL in config.toml, credentials in auth.toml"),
    pytest.param("corp", {"POETRY_HTTP_BASIC_CORP_PASSWORD": "from-env"}, [{}, AUTH, CONFIG],
                 {"url": URL, "auth": ("ci", "from-env"), "tls": {}}, id="a variable over the file"),
    pytest.param("my-corp", {"POETRY_REPOSITORIES_MY_CORP_URL": "https://other/",
                             "POETRY_HTTP_BASIC_MY_CORP_USERNAME": "u", "POETRY_HTTP_BASIC_MY_CORP_PASSWORD": "p"},
                 [{}, {}, {}], {"url": "https://other/", "auth": ("u", "p"), "tls": {}}, id="all from the environment"),
    pytest.param("corp", {"POETRY_PYPI_TOKEN_CORP": "pypi-abc"}, [{}, AUTH, CONFIG],
                 {"url": URL, "auth": ("__token__", "pypi-abc"), "tls": {}}, id="a token before basic auth"),
    pytest.param("corp", {}, [{"repositories": {"corp": {"url": "https://local/"}}}, {}, CONFIG],
                 {"url": "https://local/", "auth": None, "tls": {}}, id="the project's poetry.toml first"),
    pytest.param("corp", {}, [{}, {}, {}], {"url": None, "auth": None, "tls": {}}, id="not configured"),
    pytest.param("pypi", {"POETRY_PYPI_TOKEN_PYPI": "pypi-xyz"}, [{}, {}, {}],
                 {"url": "https://upload.pypi.org/legacy/", "auth": ("__token__", "pypi-xyz"), "tls": {}},
                 id="PyPI is built in"),
    pytest.param("corp", {}, [{}, {"certificates": {"corp": {"cert": "/etc/ca.pem", "client-cert": "/etc/me.pem"}}}, CONFIG],
                 {"url": URL, "auth": None, "tls": {"ca_path": "/etc/ca.pem", "client_cert": "/etc/me.pem"}},
                 id="certificates"),
    pytest.param("corp", {"POETRY_CERTIFICATES_CORP_CERT": "false"}, [{}, {}, CONFIG],
                 {"url": URL, "auth": None, "tls": {"validate_certs": False}}, id="verification off"),
])
def test_what_poetry_would_use(name, environ, documents, expected):
    assert repository_settings(name, environ, documents) == expected
