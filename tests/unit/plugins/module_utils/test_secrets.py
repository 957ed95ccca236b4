# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One rule for names that hold secrets and one way to mask credentials in URLs, for
environment variables and Poetry's settings alike."""

import pytest

from ansible_collections.lockstep.poetry.plugins.module_utils import _secrets


@pytest.mark.parametrize("name, secret", [
    ("POETRY_HTTP_BASIC_CORP_PASSWORD", True),
    ("POETRY_PYPI_TOKEN_CORP", True),
    ("AWS_SECRET_ACCESS_KEY", True),
    ("AWS_SESSION_TOKEN", True),
    ("GITLAB_API_KEY", True),
    ("GITLAB_APIKEY", True),
    ("SSH_PRIVATE_KEY", True),
    ("GPG_PASSPHRASE", True),
    ("GOOGLE_APPLICATION_CREDENTIALS", True),
    ("PGPASSWORD", True),
    ("MYSQL_PWD", True),
    ("http-basic.corp.password", True),
    ("pypi-token.corp", True),
    ("plugins.x.token", True),
    ("plugins.x.api-key", True),
    ("POETRY_HTTP_BASIC_CORP_USERNAME", False),
    ("TOKENIZERS_PARALLELISM", False),
    ("PASSWORDLESS_LOGIN", False),
    ("repositories.corp.url", False),
    ("KEYRING_BACKEND", False),
], ids=str)
def test_one_rule_for_secret_names(name, secret):
    assert _secrets.is_secret_name(name) is secret


def test_poetry_credential_sections_are_secret_whatever_the_name():
    assert _secrets.is_secret("http-basic.corp.username") and not _secrets.is_secret_name("http-basic.corp.username")
    assert _secrets.is_secret("pypi-token.corp")
    assert not _secrets.is_secret("virtualenvs.create")


@pytest.mark.parametrize("text, masked", [
    ("https://me:s3cret@pypi.example.org/simple/", "https://********@pypi.example.org/simple/"),
    ("https://__token__@pypi.example.org/", "https://********@pypi.example.org/"),
    # An '@' in the password, not encoded: masked up to the host.
    ("https://me:p@ss@pypi.example.org/simple/", "https://********@pypi.example.org/simple/"),
    ("cannot reach https://me:s3cret@repo.example.com/simple/ (401); see http://a@b/x",
     "cannot reach https://********@repo.example.com/simple/ (401); see http://********@b/x"),
    ("https://pypi.example.org/simple/?user=me@example.org", "https://pypi.example.org/simple/?user=me@example.org"),
    ("no URL here, mail me@example.org", "no URL here, mail me@example.org"),
])
def test_one_way_to_mask_credentials_in_urls(text, masked):
    assert _secrets.redact_urls(text) == masked


def test_anything_but_text_is_left_alone():
    assert _secrets.redact_urls(None) is None and _secrets.redact_urls(True) is True
