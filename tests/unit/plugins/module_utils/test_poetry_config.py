# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Poetry's configuration files and settings (module_utils/_poetry_config.py)."""

import pytest

from ansible_collections.lockstep.poetry.plugins.module_utils import _poetry_config as pc
from ansible_collections.lockstep.poetry.plugins.module_utils import _secrets
from ansible_collections.lockstep.poetry.plugins.module_utils._toml import TomlError
from ansible_collections.lockstep.poetry.tests.unit.plugins.module_utils.captured import VERSIONS, Captured


@pytest.mark.parametrize("override, environ, expected", [
    ("/etc/poetry", {"POETRY_CONFIG_DIR": "/srv/poetry"}, "/etc/poetry"),
    (None, {"POETRY_CONFIG_DIR": "/srv/poetry", "XDG_CONFIG_HOME": "/x"}, "/srv/poetry"),
    (None, {"XDG_CONFIG_HOME": "/home/app/.xdg"}, "/home/app/.xdg/pypoetry"),
    (None, {"POETRY_CONFIG_DIR": "", "XDG_CONFIG_HOME": ""}, "HOME/.config/pypoetry"),
])
def test_config_dir(override, environ, expected, monkeypatch):
    monkeypatch.setattr(pc.sys, "platform", "linux")
    monkeypatch.setenv("HOME", "/home/app")
    assert pc.config_dir(override, environ) == expected.replace("HOME", "/home/app")


def test_config_dir_expands_home(monkeypatch):
    monkeypatch.setenv("HOME", "/home/app")
    assert pc.config_dir(None, {"POETRY_CONFIG_DIR": "~/poetry"}) == "/home/app/poetry"


def test_file_names():
    assert pc.config_file("/c") == "/c/config.toml"
    assert pc.auth_file("/c") == "/c/auth.toml"
    assert pc.project_config_file("/srv/app") == "/srv/app/poetry.toml"


@pytest.mark.parametrize("name, value, stored", [
    ("virtualenvs.create", False, False),
    ("virtualenvs.in-project", "true", True),
    ("virtualenvs.in-project", "0", False),
    ("keyring.enabled", "no", False),
    ("installer.max-workers", 4, 4),
    ("installer.max-workers", "10", 10),
    ("requests.max-retries", 0, 0),
    ("cache-dir", "/var/cache/pypoetry/", "/var/cache/pypoetry"),
    ("virtualenvs.path", "{cache-dir}//venvs", "{cache-dir}/venvs"),
    ("virtualenvs.prompt", "{project_name}", "{project_name}"),
    ("installer.no-binary", True, [":all:"]),
    ("installer.no-binary", "false", [":none:"]),
    ("installer.no-binary", ":all:", [":all:"]),
    ("installer.no-binary", "PyYAML,Foo_Bar", ["foo-bar", "pyyaml"]),
    ("installer.only-binary", ["Rich", "httpx", "rich"], ["httpx", "rich"]),
    ("solver.min-release-age-exclude-source", "corp, internal", ["corp", "internal"]),
    ("repositories.corp.url", "https://pypi.example.org/simple/", "https://pypi.example.org/simple/"),
    ("installer.build-config-settings.Foo_Bar", '{"--build-option": ["--x"]}', {"--build-option": ["--x"]}),
    ("plugins.pypi_mirror.url", "https://mirror.example.org/simple/", "https://mirror.example.org/simple/"),
    ("plugins.some-plugin.nested.flag", True, True),
])
def test_normalize(name, value, stored):
    setting = pc.find_setting(name)
    assert setting.normalize(value) == stored
    assert isinstance(setting.normalize(value), bool) == isinstance(stored, bool)


@pytest.mark.parametrize("name, keys", [
    ("virtualenvs.options.no-pip", ["virtualenvs", "options", "no-pip"]),
    ("system-git-client", ["system-git-client"]),
    ("repositories.corp.mirror.url", ["repositories", "corp.mirror", "url"]),
    ("installer.build-config-settings.Foo_Bar", ["installer", "build-config-settings", "foo-bar"]),
    ("plugins.pypi_mirror.url", ["plugins", "pypi_mirror", "url"]),
])
def test_keys(name, keys):
    assert pc.find_setting(name).keys == keys


@pytest.mark.parametrize("name, value, message", [
    ("virtualenvs.create", "maybe", "expected a boolean"),
    ("installer.max-workers", 0, "at least 1"),
    ("installer.max-workers", True, "expected an integer"),
    ("installer.max-workers", "four", "expected an integer"),
    ("requests.max-retries", -1, "at least 0"),
    ("virtualenvs.prompt", ["a"], "expected a string"),
    ("installer.no-binary", ":all:,foo", ":all: cannot be combined"),
    ("installer.no-binary", "foo bar", "is not a package name"),
    ("installer.no-binary", [], "expected true, false"),
    ("installer.build-config-settings.foo", "not json", "expected a mapping"),
    ("installer.build-config-settings.foo", {"a": 1}, "must be a string or a list of strings"),
    ("plugins.x.y", None, "expected a value"),
])
def test_normalize_refuses(name, value, message):
    with pytest.raises(pc.ConfigError, match="^Invalid value .* for %s .*%s" % (name, message)):
        pc.find_setting(name).normalize(value)


def test_config_error_is_a_toml_error():
    assert issubclass(pc.ConfigError, TomlError)


def test_repository_url_with_credentials_refused():
    with pytest.raises(pc.ConfigError) as error:
        pc.find_setting("repositories.corp.url").normalize("https://me:s3cret@pypi.example.org/simple/")
    assert "s3cret" not in error.value.msg
    assert "https://********@pypi.example.org/simple/ embeds credentials" in error.value.msg
    assert "lockstep.poetry.credentials" in error.value.msg


@pytest.mark.parametrize("name", [
    "http-basic.corp.username", "http-basic.corp", "pypi-token.pypi", "certificates.corp.cert",
    "certificates.corp.client-cert",
])
def test_credentials_refused(name):
    with pytest.raises(pc.ConfigError, match="auth.toml .* manage it with lockstep.poetry.credentials$"):
        pc.find_setting(name)


def test_unknown_setting_lists_valid_ones():
    with pytest.raises(pc.ConfigError) as error:
        pc.find_setting("virtualenvs.in_project")
    assert error.value.msg.startswith("Unknown Poetry setting virtualenvs.in_project. Valid settings: cache-dir, ")
    assert "virtualenvs.in-project, " in error.value.msg
    assert error.value.msg.endswith("repositories.<name>.url, installer.build-config-settings.<package>, "
                                    "plugins.<plugin>.<key>")


def test_repository_without_url_hints():
    with pytest.raises(pc.ConfigError, match=r"repositories.corp \(a repository's URL is set with repositories.corp.url\)"):
        pc.find_setting("repositories.corp")


def test_version_notes():
    assert pc.find_setting("virtualenvs.prefer-active-python").versions == ("1.8",)
    assert "virtualenvs.use-poetry-python" in pc.find_setting("virtualenvs.prefer-active-python").note
    assert pc.find_setting("virtualenvs.create").versions == ("1.8", "2")
    assert pc.find_setting("virtualenvs.create").note is None


def test_same():
    no_binary = pc.find_setting("installer.no-binary")
    assert no_binary.same(["rich", "httpx"], ["httpx", "rich"])
    assert not no_binary.same(None, ["httpx"])
    create = pc.find_setting("virtualenvs.create")
    assert create.same(True, True)
    assert not create.same("true", True), "a string in the file is not what Poetry would store"
    assert not pc.find_setting("installer.max-workers").same(True, 1)


@pytest.mark.parametrize("name, secret", [
    ("http-basic.corp.password", True),
    ("http-basic.corp.username", True),
    ("pypi-token.pypi", True),
    ("plugins.codeartifact.token", True),
    ("plugins.x.api_key", True),
    ("plugins.x.client-secret", True),
    ("keyring.enabled", False),
    ("repositories.corp.url", False),
    ("virtualenvs.create", False),
])
def test_is_secret(name, secret):
    assert _secrets.is_secret(name) is secret


def test_redact():
    settings = {
        "http-basic": {"corp": {"username": "me", "password": "s3cret"}},
        "repositories": {"corp": {"url": "https://me:s3cret@pypi.example.org/simple/"},
                         "plain": {"url": "https://pypi.example.org/simple/"}},
        "plugins.x.token": "abc",
        "virtualenvs.create": True,
        "keyring.enabled": False,
        "plugins.x.password": "",
    }
    assert pc.redact(settings) == {
        "http-basic": {"corp": {"username": "********", "password": "********"}},
        "repositories": {"corp": {"url": "https://********@pypi.example.org/simple/"},
                         "plain": {"url": "https://pypi.example.org/simple/"}},
        "plugins.x.token": "********",
        "virtualenvs.create": True,
        "keyring.enabled": False,
        "plugins.x.password": "",
    }


@pytest.mark.parametrize("url, has", [
    ("https://pypi.example.org/simple/", False),
    ("https://token@pypi.example.org/simple/", True),
    ("https://me:pw@pypi.example.org/simple/", True),
    ("http://127.0.0.1:8080/simple/?a=b@c", False),
    ("", False),
])
def test_url_has_credentials(url, has):
    assert pc.url_has_credentials(url) is has
    if not has:
        assert pc.check_url(url) == url


@pytest.mark.parametrize("value, secrets", [
    ("https://me:s3cret@pypi.example.org/", {"me:s3cret", "s3cret"}),
    ("https://tok3n@pypi.example.org/", {"tok3n"}),
    ("https://pypi.example.org/", set()),
    (True, set()),
])
def test_url_secrets(value, secrets):
    assert _secrets.url_secrets(value) == secrets


@pytest.mark.parametrize("version", VERSIONS)
def test_parse_config_list_of_a_project(version):
    settings = pc.parse_config_list(Captured(version, "config-list-project").stdout)
    # Resolved values win: the environment variable over the file, placeholders filled in.
    assert settings["cache-dir"] == "/var/cache/pypoetry"
    assert settings["virtualenvs.path"] == "/var/cache/pypoetry/venvs"
    assert settings["virtualenvs.prompt"] == "{project_name}-py{python_version}"
    # Typed as Poetry holds them; poetry.toml over config.toml.
    assert settings["virtualenvs.in-project"] is True
    assert settings["installer.parallel"] is False
    assert settings["installer.max-workers"] == 4
    assert settings["installer.no-binary"] == ["httpx", "rich"]
    assert settings["repositories.internal.url"] == "https://pypi.example.org/legacy/"
    assert settings["certificates.internal.client-cert"] == "/etc/ssl/private/client.pem"
    assert settings["plugins.pypi_mirror.url"] == "https://mirror.example.org/simple/"
    # Poetry never lists credentials.
    assert not [name for name in settings if name.startswith(("http-basic", "pypi-token"))]


@pytest.mark.parametrize("version", VERSIONS)
def test_parse_config_list_defaults(version):
    settings = pc.parse_config_list(Captured(version, "config-list-defaults").stdout)
    assert settings["virtualenvs.in-project"] is None
    assert settings["installer.no-binary"] is None
    assert settings["keyring.enabled"] is True
    assert ("virtualenvs.use-poetry-python" in settings) is version.startswith("2")
    assert ("virtualenvs.prefer-active-python" in settings) is version.startswith("1")
    # Every setting Poetry lists is one the config module knows.
    for name in settings:
        pc.find_setting(name)


@pytest.mark.parametrize("version", VERSIONS)
def test_redacted_config_list(version):
    settings = pc.redact(pc.parse_config_list(Captured(version, "config-list-project").stdout))
    assert settings["plugins.codeartifact.token"] == "********"
    assert settings["repositories.leaky.url"] == "https://********@pypi.example.org/legacy/"
    assert "hunter2" not in str(settings) and "secret-token-value" not in str(settings)


def test_parse_config_list_ignores_other_lines():
    assert pc.parse_config_list("Warning: something\n\nkeyring.enabled = false\n") == {"keyring.enabled": False}
