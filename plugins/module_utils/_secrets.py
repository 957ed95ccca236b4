# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What is secret, for masking and reporting: the one rule for names that say they hold a
secret (environment variables and Poetry's settings alike), the one way to mask the credentials
written into URLs, and the secrets of a module's `env` option.

Apart from _poetry_config (which reads the TOML files) because every module that runs Poetry
masks secrets, and loading the TOML machinery costs a no-op install run a good part of its time.
Private to this collection: no compatibility promise.
"""

import re
from collections.abc import Mapping
from urllib.parse import urlsplit

REDACTED = "********"

# A name says it holds a secret when one of its words (separated by '_', '-' or '.') is a word
# for a password, passphrase, token, secret, credentials or key (AWS_SECRET_ACCESS_KEY,
# POETRY_PYPI_TOKEN_CORP, http-basic.corp.password, GITLAB_API_KEY), or when it ends in one
# (PGPASSWORD, MYSQL_PWD). Whole words otherwise: a value masked by mistake, such as the "false"
# of TOKENIZERS_PARALLELISM, would be masked everywhere in a result.
_SECRET_NAME = re.compile(
    r"(^|[-_.])(password|passwd|passphrase|token|secret|credentials?|api[-_.]?key|private[-_.]key)([-_.]|$)"
    r"|(password|passwd|token|secret|[-_.]pwd)$",
    re.IGNORECASE,
)
# Poetry's settings under these sections are credentials, the user name included.
CREDENTIAL_SECTIONS = ("http-basic.", "pypi-token.")
# The user:password@ of a URL, wherever it stands in a text (up to the last '@' before the path).
_URL_USERINFO = re.compile(r"(?<=://)[^/?#\s]*@")


def is_secret_name(name):
    """Whether a name (an environment variable, a dotted setting) says that it holds a secret."""
    return bool(_SECRET_NAME.search(name))


def is_secret(name):
    """Whether a dotted Poetry setting holds a secret: credentials, tokens, passwords."""
    return name.startswith(CREDENTIAL_SECTIONS) or is_secret_name(name)


def url_has_credentials(url):
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return "@" in parts.netloc


def url_secrets(value):
    """The user:password part of a URL (and the password alone), for a module's no_log_values:
    a refused URL must not come back in the task's result."""
    if not isinstance(value, str) or not url_has_credentials(value):
        return set()
    userinfo = urlsplit(value).netloc.rpartition("@")[0]
    return set(part for part in (userinfo, userinfo.partition(":")[2]) if part)


def redact_urls(text):
    """The text with the user:password@ of every URL in it replaced by REDACTED
    (https://me:s3cret@host/ -> https://********@host/); anything but a string as it is."""
    if not isinstance(text, str):
        return text
    return _URL_USERINFO.sub(REDACTED + "@", text)


def redact(settings, prefix=""):
    """A copy of a (nested or flat) settings mapping with secret values and the credentials in
    URLs replaced by REDACTED."""
    redacted = {}
    for key, value in settings.items():
        name = prefix + key
        if isinstance(value, dict):
            redacted[key] = redact(value, name + ".")
        elif is_secret(name) and value not in (None, ""):
            redacted[key] = REDACTED
        else:
            redacted[key] = redact_urls(value)
    return redacted


def variable_text(value):
    """An environment variable's value as Poetry reads it: booleans as true/false (Python's
    True would read as false to Poetry), numbers in decimal."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _leaves(value):
    """The scalars in a value, however nested."""
    if isinstance(value, Mapping):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, (list, tuple, set)):
        for item in value:
            yield from _leaves(item)
    elif value is not None:
        yield variable_text(value)


def env_secrets(env):
    """The strings of an `env` option to mask in whatever a module reports or logs: the values
    of variables whose names say they are secret, and credentials written into URLs. Values
    that are not scalars count too (the option is checked only later). The empty string is
    never among them: masking it would garble every string."""
    if isinstance(env, str):  # `env: "NAME=value NAME2=value2"`, as Ansible's dict type reads it
        # Imported only here: the rest of this file serves the install no-op's helper, which
        # runs without Ansible's module_utils (plugin_utils/_helper.py).
        from ansible.module_utils.common.validation import check_type_dict

        try:
            env = check_type_dict(env)
        except (TypeError, ValueError):
            return set()
    if not isinstance(env, Mapping):
        return set()
    secrets = set()
    for name, value in env.items():
        for text in _leaves(value):
            if is_secret_name(str(name)):
                secrets.add(text)
            secrets.update(url_secrets(text))
    secrets.discard("")
    return secrets
