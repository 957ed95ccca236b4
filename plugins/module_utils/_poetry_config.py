# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Poetry's configuration files and the settings they hold, as Poetry 1.8 and 2.x know them.

- Where the files are: ``config_dir()`` (the config_dir option > POETRY_CONFIG_DIR > the
  platform's user config dir), ``config_file()`` and ``auth_file()`` in it, and
  ``project_config_file()`` (a project's poetry.toml).
- Which settings exist and how Poetry stores them: ``find_setting(name)`` returns a ``Setting``
  whose ``keys`` are the TOML table path and whose ``normalize(value)`` gives the value the way
  ``poetry config NAME VALUE`` would store it (bool, int, string, list, table).
- What is secret: _secrets says (``is_secret()``, ``redact()``); ``check_url()`` here refuses URLs
  with embedded credentials.
- What Poetry uses: ``effective_settings(runner, directory)`` asks ``poetry config --list`` (files,
  environment variables and defaults merged by Poetry itself) without letting it create files;
  ``parse_config_list()`` reads its output. ``setting_in_use()`` reads one setting the same way
  without starting Poetry, and ``default_cache_dir()`` is where Poetry's cache is by default.

Private to this collection: no compatibility promise.
"""

import collections
import json
import os
import pathlib
import re
import shutil
import sys
import tempfile

from ansible_collections.lockstep.poetry.plugins.module_utils._names import canonical_name, setting_variable
from ansible_collections.lockstep.poetry.plugins.module_utils._secrets import redact, redact_urls, url_has_credentials
from ansible_collections.lockstep.poetry.plugins.module_utils._toml_read import TomlError, get_path

CONFIG_FILE = "config.toml"
AUTH_FILE = "auth.toml"
PROJECT_FILE = "poetry.toml"

CREDENTIALS_MODULE = "lockstep.poetry.credentials"

# Poetry versions a setting exists in; the table covers 1.8.x and 2.x up to 2.5.
V1 = ("1.8",)
V2 = ("2",)
BOTH = V1 + V2


class ConfigError(TomlError):
    """A Poetry setting that cannot be stored: unknown, refused, or a value of the wrong type.

    A TomlError, so that modules editing Poetry's files catch one exception type.
    """


def config_dir(override=None, environ=None):
    """Poetry's configuration directory, chosen the way Poetry chooses it.

    ``override`` (a module's config_dir option) wins, then POETRY_CONFIG_DIR, then the user
    config dir of platformdirs: $XDG_CONFIG_HOME/pypoetry or ~/.config/pypoetry on Linux,
    ~/Library/Application Support/pypoetry on macOS.
    """
    environ = os.environ if environ is None else environ
    for candidate in (override, environ.get("POETRY_CONFIG_DIR")):
        if candidate:
            return os.path.expanduser(candidate)
    return _user_dir(environ, "XDG_CONFIG_HOME", "~/.config", "~/Library/Application Support")


def default_cache_dir(environ=None):
    """Poetry's cache-dir when no setting names one: the user cache dir of platformdirs,
    $XDG_CACHE_HOME/pypoetry or ~/.cache/pypoetry on Linux, ~/Library/Caches/pypoetry on macOS."""
    return _user_dir(os.environ if environ is None else environ, "XDG_CACHE_HOME", "~/.cache", "~/Library/Caches")


def _user_dir(environ, xdg_variable, linux_base, macos_base):
    if sys.platform == "darwin":
        return os.path.join(os.path.expanduser(macos_base), "pypoetry")
    base = environ.get(xdg_variable, "").strip() or os.path.expanduser(linux_base)
    return os.path.join(base, "pypoetry")


def config_file(directory):
    """Global settings (``poetry config NAME VALUE``)."""
    return os.path.join(directory, CONFIG_FILE)


def auth_file(directory):
    """Credentials and certificates (``poetry config http-basic.NAME ...``, ``certificates.*``)."""
    return os.path.join(directory, AUTH_FILE)


def pyproject_file(project_path):
    """The project's pyproject.toml; ConfigError when there is none."""
    path = os.path.join(project_path, "pyproject.toml")
    if not os.path.isfile(path):
        raise ConfigError("%s is not a Poetry project: %s does not exist" % (project_path, path), path)
    return path


def project_config_file(project_path):
    """A project's own settings (``poetry config --local NAME VALUE``)."""
    return os.path.join(project_path, PROJECT_FILE)


# Value kinds. Each turns what a task gives (YAML types, or strings as the CLI takes them) into
# what Poetry writes to the file, and raises ValueError when the value does not fit.

def _boolean(value):
    # Ansible's words for true and false. Imported only here: reading the settings in use serves
    # the install no-op's helper, which runs without Ansible's module_utils (plugin_utils/_helper.py).
    from ansible.module_utils.parsing.convert_bool import BOOLEANS_FALSE, BOOLEANS_TRUE

    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in BOOLEANS_TRUE:
        return True
    if text in BOOLEANS_FALSE:
        return False
    raise ValueError("expected a boolean (true or false)")


def _integer(minimum):
    def normalize(value):
        if isinstance(value, bool) or not re.match(r"^\s*-?\d+\s*$", str(value)):
            raise ValueError("expected an integer")
        number = int(str(value))
        if number < minimum:
            raise ValueError("expected an integer of at least %d" % minimum)
        return number
    return normalize


def _string(value):
    if isinstance(value, (dict, list, bool)) or value is None:
        raise ValueError("expected a string")
    return str(value)


def _path(value):
    # Poetry stores str(Path(value)): no trailing slash, no doubled ones; `~` stays as given.
    return str(pathlib.PurePosixPath(_string(value)))


def _url(value):
    return check_url(_string(value))


def _split_list(value):
    """A list from a YAML list or from Poetry's comma-separated CLI form."""
    if isinstance(value, list):
        items = value
    elif isinstance(value, str):
        items = value.split(",")
    else:
        raise ValueError("expected a list or a comma-separated string")
    return [str(item).strip() for item in items if str(item).strip()]


_RESERVED_PACKAGE_POLICIES = (":all:", ":none:")


def _package_policy(value):
    """installer.no-binary and friends: true means [":all:"], false [":none:"], else names."""
    try:
        return [":all:"] if _boolean(value) else [":none:"]
    except ValueError:
        pass
    names = _split_list(value)
    if not names:
        raise ValueError("expected true, false, :all:, :none: or a list of package names")
    for name in names:
        if name in _RESERVED_PACKAGE_POLICIES:
            if len(names) > 1:
                raise ValueError("%s cannot be combined with package names" % name)
        elif not re.match(r"^[A-Za-z0-9._-]+$", name):
            raise ValueError("%r is not a package name" % name)
    # Poetry stores the names from a set, in no particular order: keep ours sorted so that
    # comparisons (see Setting.same) and files are stable.
    return sorted(set(name if name in _RESERVED_PACKAGE_POLICIES else canonical_name(name)
                      for name in names))


def _string_list(value):
    names = _split_list(value)
    if not names:
        raise ValueError("expected a non-empty list")
    return names


def _build_config(value):
    """installer.build-config-settings.PACKAGE: PEP 517 config settings, strings or lists."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ValueError("expected a mapping (or its JSON text)")
    if not isinstance(value, dict):
        raise ValueError("expected a mapping of setting names to strings or lists of strings")
    settings = {}
    for key, item in value.items():
        if isinstance(item, list) and all(isinstance(part, str) for part in item):
            settings[str(key)] = list(item)
        elif isinstance(item, str):
            settings[str(key)] = item
        else:
            raise ValueError("the value of %s must be a string or a list of strings" % key)
    return settings


def _any(value):
    # Plugin settings: whatever the plugin reads, stored with the type the task gave.
    if value is None:
        raise ValueError("expected a value")
    if isinstance(value, str):
        check_url(value)
    return value


KINDS = {
    # name: (normalizer, words for messages and docs)
    "bool": (_boolean, "boolean"),
    "int>0": (_integer(1), "integer >= 1"),
    "int>=0": (_integer(0), "integer >= 0"),
    "str": (_string, "string"),
    "path": (_path, "path"),
    "url": (_url, "URL"),
    "packages": (_package_policy, "list of package names, :all: or :none: (or true/false)"),
    "list": (_string_list, "list of strings"),
    "table": (_build_config, "mapping"),
    "any": (_any, "any value"),
}


class Setting:
    """One Poetry setting: its name, TOML path (keys), value kind and the Poetry versions that
    know it (``"1.8"``, ``"2"``); ``note`` says what replaced a setting Poetry 2 dropped."""

    def __init__(self, name, keys, kind, versions=BOTH, note=None):
        self.name = name
        self.keys = list(keys)
        self.kind = kind
        self.versions = versions
        self.note = note

    def normalize(self, value):
        """The value as Poetry stores it; ConfigError when it does not fit the setting."""
        normalizer, words = KINDS[self.kind]
        try:
            return normalizer(value)
        except ValueError as error:
            raise ConfigError("Invalid value %r for %s (%s): %s" % (value, self.name, words, error))

    def same(self, stored, wanted):
        """Whether a stored value already means ``wanted`` (a normalized value)."""
        if self.kind == "packages" and isinstance(stored, list):
            return sorted(set(stored)) == wanted
        # True == 1 in Python, but not for Poetry's settings.
        return isinstance(stored, bool) == isinstance(wanted, bool) and stored == wanted

    def __repr__(self):
        return "Setting(%r, %r)" % (self.name, self.kind)


def _known(name, kind, versions=BOTH, note=None):
    return Setting(name, name.split("."), kind, versions, note)


# Settings with a fixed name, from `poetry config` (unique_config_values) of Poetry 1.8.5 and
# 2.5.1. Names that exist in one major version only are still accepted for the other: Poetry
# ignores settings it does not know, and the module warns with `note`.
KNOWN_SETTINGS = dict((setting.name, setting) for setting in [
    _known("cache-dir", "path"),
    _known("data-dir", "path", V2),
    _known("virtualenvs.create", "bool"),
    _known("virtualenvs.in-project", "bool"),
    _known("virtualenvs.path", "path"),
    _known("virtualenvs.prompt", "str"),
    _known("virtualenvs.options.always-copy", "bool"),
    _known("virtualenvs.options.system-site-packages", "bool"),
    _known("virtualenvs.options.no-pip", "bool"),
    _known("virtualenvs.options.no-setuptools", "bool", V1,
           "Poetry 2.0 removed it: new virtualenvs no longer get setuptools."),
    _known("virtualenvs.prefer-active-python", "bool", V1,
           "Poetry 2.0 replaced it with virtualenvs.use-poetry-python (of opposite meaning)."),
    _known("virtualenvs.use-poetry-python", "bool", V2),
    _known("experimental.system-git-client", "bool", V1,
           "Poetry 2.0 renamed it to system-git-client."),
    _known("system-git-client", "bool", V2),
    _known("installer.modern-installation", "bool", V1, "Poetry 2.0 removed it."),
    _known("installer.parallel", "bool"),
    _known("installer.max-workers", "int>0"),
    _known("installer.no-binary", "packages"),
    _known("installer.only-binary", "packages", V2),
    _known("installer.re-resolve", "bool", V2),
    _known("installer.builtin-uninstall", "bool", V2),
    _known("requests.max-retries", "int>=0", V2),
    _known("solver.lazy-wheel", "bool"),
    _known("solver.min-release-age", "int>=0", V2),
    _known("solver.min-release-age-exclude", "packages", V2),
    _known("solver.min-release-age-exclude-source", "list", V2),
    _known("warnings.export", "bool", V1, "Poetry 2.0 removed it with the bundled export plugin."),
    _known("keyring.enabled", "bool"),
    _known("python.installation-dir", "path", V2),
])

# Settings whose name carries a name of the user's: the name's regex, how the docs write it, and
# how to build the Setting from a match.
SettingPattern = collections.namedtuple("SettingPattern", "regex description build")

PATTERN_SETTINGS = [
    SettingPattern(
        re.compile(r"^repositories\.(?P<name>.+)\.url$"),
        "repositories.<name>.url",
        lambda match: Setting(match.group(0), ["repositories", match.group("name"), "url"], "url"),
    ),
    SettingPattern(
        re.compile(r"^installer\.build-config-settings\.(?P<package>[^.]+)$"),
        "installer.build-config-settings.<package>",
        lambda match: Setting(
            match.group(0),
            ["installer", "build-config-settings", canonical_name(match.group("package"))],
            "table", V2),
    ),
    SettingPattern(
        re.compile(r"^plugins\.(?P<plugin>[^.]+)\.(?P<key>.+)$"),
        "plugins.<plugin>.<key>",
        lambda match: Setting(
            match.group(0), ["plugins", match.group("plugin")] + match.group("key").split("."), "any"),
    ),
]

# Keys Poetry keeps in auth.toml: the credentials module manages them, with no_log and mode 0600.
CREDENTIAL_PREFIXES = ("http-basic.", "pypi-token.", "certificates.")


def valid_names():
    """Every setting name (fixed names, then the patterns), for error messages and docs."""
    return sorted(KNOWN_SETTINGS) + [pattern.description for pattern in PATTERN_SETTINGS]


def find_setting(name):
    """The Setting called ``name``; ConfigError for credentials and for unknown names."""
    if name in KNOWN_SETTINGS:
        return KNOWN_SETTINGS[name]
    if name.startswith(CREDENTIAL_PREFIXES):
        raise ConfigError(
            "%s is stored in Poetry's auth.toml with the credentials and certificates of "
            "repositories; manage it with %s" % (name, CREDENTIALS_MODULE))
    for pattern in PATTERN_SETTINGS:
        match = pattern.regex.match(name)
        if match:
            return pattern.build(match)
    hint = ""
    if re.match(r"^repositories\.[^.]+$", name):
        hint = " (a repository's URL is set with %s.url)" % name
    raise ConfigError("Unknown Poetry setting %s%s. Valid settings: %s"
                      % (name, hint, ", ".join(valid_names())))


def check_url(url):
    """The URL itself; ConfigError when it embeds credentials (user:password@host)."""
    if url_has_credentials(url):
        raise ConfigError(
            "The URL %s embeds credentials: a URL is not a secret (it lands in pyproject.toml, "
            "poetry.lock, logs and `poetry config --list`). Give the URL without them and set "
            "the credentials with %s" % (redact_urls(url), CREDENTIALS_MODULE))
    return url


# What Poetry uses, read without starting it (for the few settings a module needs before it
# would run Poetry at all): an environment variable, else the project's poetry.toml, else the
# user's config.toml, else Poetry's default.

def _environment_boolean(text, poetry_version):
    # Poetry 2.0 made the comparison case-insensitive ("True" was false for 1.8).
    if poetry_version < (2, 0):
        return text in ("true", "1")
    return text.lower() in ("true", "1")


def setting_in_use(name, environ, documents, poetry_version, default=None):
    """The value of setting ``name`` as Poetry reads it: its environment variable (a boolean
    is true only when it says "true" or "1", anything else is false), else the first of
    ``documents`` (parsed TOML: poetry.toml, then config.toml) that holds it, else default.
    Placeholders such as {cache-dir} are left for the caller."""
    setting = find_setting(name)
    text = environ.get(setting_variable(name))
    if text is not None:
        if setting.kind == "bool":
            return _environment_boolean(text, poetry_version)
        return _path(text) if setting.kind == "path" else text
    for document in documents:
        value = get_path(document, setting.keys)
        if value is not None:
            return value
    return default


# What Poetry uses: `poetry config --list`.

# `name = <JSON>`, and for a string Poetry resolves (placeholders, an environment variable over
# the file) `name = <JSON as stored>  # <value in use>`.
_CONFIG_LINE_RE = re.compile(r"^(?P<name>[^\s=]+) = (?P<value>.*?)(?:  # (?P<resolved>.*))?$")


def _decode(name, text):
    try:
        value = json.loads(text)
    except ValueError:
        return text
    # Poetry prints lists as one string, "[httpx, rich]".
    kind = _kind_of(name)
    if kind in ("packages", "list") and isinstance(value, str) and value.startswith("[") and value.endswith("]"):
        return [item.strip() for item in value[1:-1].split(",") if item.strip()]
    return value


def _kind_of(name):
    try:
        return find_setting(name).kind
    except ConfigError:
        return None


def parse_config_list(text):
    """{setting name: value in use} from `poetry config --list` output (Poetry 1.8 and 2.x)."""
    settings = {}
    for line in (text or "").splitlines():
        match = _CONFIG_LINE_RE.match(line.rstrip())
        if not match:
            continue
        name = match.group("name")
        if match.group("resolved") is not None:
            settings[name] = match.group("resolved")
            continue
        settings[name] = _decode(name, match.group("value"))
    return settings


def effective_settings(runner, directory, cwd=None):
    """The settings Poetry uses, secrets redacted: ``poetry config --list`` run in cwd (a project
    directory adds its poetry.toml), reading the config.toml and auth.toml of ``directory``.

    `poetry config` creates an empty config.toml when there is none, so it runs against a scratch
    directory that links to the real files: nothing of the user's is created or changed.
    """
    scratch = tempfile.mkdtemp(prefix="lockstep-poetry-config-")
    try:
        for path in (config_file(directory), auth_file(directory)):
            if os.path.exists(path):
                os.symlink(os.path.abspath(path), os.path.join(scratch, os.path.basename(path)))
        out = runner.run(["config", "--list"], cwd=cwd or scratch, env={"POETRY_CONFIG_DIR": scratch})[1]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return redact(parse_config_list(out))
