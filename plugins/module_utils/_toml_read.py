# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read TOML files into plain Python data: the reading half of _toml, which re-exports it.

On its own so that code that only reads (lockstep.poetry.install's look at Poetry's settings
before it decides whether Poetry must run at all) does not import tomlkit, which only editing
needs. Import from _toml unless that is the point.

- ``load(path)``/``loads(text)`` go through the first parser that imports: tomllib (Python
  3.11+), tomli, else tomlkit (``READER`` is the strict one of the first two, or None).
- ``unwrap(item)`` turns tomlkit items into the builtin types tomllib returns.
- ``get_path`` reads nested tables by a list of keys.

Every failure raises ``TomlError``, which carries ``msg`` and ``path``. Private to this
collection: no compatibility promise.
"""

import datetime

try:
    import tomllib as READER
except ImportError:
    try:
        import tomli as READER
    except ImportError:
        READER = None

# The last resort for reading (Debian 11 has python3-tomlkit but neither tomllib nor tomli).
FALLBACK = None
if READER is None:
    try:
        import tomlkit as FALLBACK
    except ImportError:
        pass

HAS_TOML_READER = READER is not None or FALLBACK is not None


class TomlError(Exception):
    """A TOML file that cannot be read, parsed or written."""

    def __init__(self, msg, path=None):
        super().__init__(msg)
        self.msg = msg
        self.path = path

    def to_fail_kwargs(self):
        kwargs = {"msg": self.msg}
        if self.path is not None:
            kwargs["path"] = self.path
        return kwargs


def read_text(path, missing_ok):
    """The file's text; None for a missing file if missing_ok."""
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8")
    except FileNotFoundError:
        if missing_ok:
            return None
        raise TomlError("%s does not exist" % path, path)
    except (OSError, UnicodeDecodeError) as error:
        raise TomlError("Cannot read %s: %s" % (path, error), path)


def unwrap(value):
    """tomlkit items (of a document, or got from one) as the builtin types tomllib returns.

    tomlkit 0.6.0 has no unwrap() of its own.
    """
    if isinstance(value, dict):
        return dict((str(key), unwrap(item)) for key, item in value.items())
    if isinstance(value, list):
        return [unwrap(item) for item in value]
    # bool before int: bool is an int subclass. tomlkit's String, Integer and Float subclass the
    # builtins; converting drops their formatting attributes.
    for builtin in (bool, int, float, str, datetime.datetime, datetime.date, datetime.time):
        if isinstance(value, builtin):
            return _copy_as(builtin, value)
    return value


def _copy_as(builtin, value):
    if builtin is datetime.datetime:
        return datetime.datetime(value.year, value.month, value.day, value.hour, value.minute,
                                 value.second, value.microsecond, value.tzinfo)
    if builtin is datetime.date:
        return datetime.date(value.year, value.month, value.day)
    if builtin is datetime.time:
        return datetime.time(value.hour, value.minute, value.second, value.microsecond, value.tzinfo)
    return builtin(value)


def loads(text, path=None):
    """Parse TOML text into plain Python data."""
    try:
        if READER is not None:
            return READER.loads(text)
        if FALLBACK is not None:
            return unwrap(FALLBACK.parse(text))
    except Exception as error:  # each parser has its own error class
        raise TomlError("Cannot parse %s: %s" % (path or "TOML text", error), path)
    raise TomlError("Reading TOML needs tomllib (Python 3.11+), tomli or tomlkit", path)


def load(path, missing_ok=False):
    """The content of a TOML file as plain Python data; ``{}`` for a missing file if missing_ok."""
    text = read_text(path, missing_ok)
    return {} if text is None else loads(text, path)


def get_path(data, keys, default=None):
    """The value at ``data[k1][k2]...``, or default when a key is missing or not a table."""
    for key in keys:
        if not isinstance(data, dict) or key not in data:
            return default
        data = data[key]
    return data
