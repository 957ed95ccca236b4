# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What is secret in Poetry's settings and in URLs, for masking and reporting.

Apart from _poetry_config (which reads the TOML files) because every module that runs Poetry
masks secrets, and loading the TOML machinery costs a no-op install run a good part of its time.
Private to this collection: no compatibility promise.
"""

import re
from urllib.parse import urlsplit, urlunsplit

REDACTED = "********"

_SECRET_KEY = re.compile(r"(^|[-_.])(password|passwd|token|secret|api[-_]?key|credentials?)$", re.I)


def is_secret(name):
    """Whether a dotted setting name holds a secret (credentials, tokens, passwords)."""
    return name.startswith(("http-basic.", "pypi-token.")) or bool(_SECRET_KEY.search(name))


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


def redact_url(url):
    """The URL with any user:password@ replaced by REDACTED."""
    if not isinstance(url, str) or not url_has_credentials(url):
        return url
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, "%s@%s" % (REDACTED, host), parts.path, parts.query,
                       parts.fragment))


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
            redacted[key] = redact_url(value)
    return redacted
