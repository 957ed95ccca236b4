# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read TOML files, edit them without losing formatting, and write them atomically.

Used for Poetry's config.toml and auth.toml, a project's poetry.toml and pyproject.toml.

- ``load(path)`` returns plain Python data (dict, list, str, int, float, bool) through the first
  parser that imports: tomllib (Python 3.11+), tomli, tomlkit. Reading lives in _toml_read
  (re-exported here), which code that only reads imports without tomlkit.
- ``load_document(path)`` returns a tomlkit document whose ``dumps()`` keeps comments, order and
  layout; editing needs tomlkit (``HAS_TOMLKIT``; Debian 11 ships python3-tomlkit 0.6.0, so only
  API that 0.6.0 has is used here).
- ``unwrap(item)`` turns tomlkit items got from a document into plain Python data.
- ``get_path``/``set_path``/``remove_path`` address nested tables by a list of keys, the way
  Poetry's ``a.b.c`` settings do; ``append_table``/``remove_item`` edit arrays of tables
  (``[[tool.poetry.source]]``) and inline arrays of tables alike.
- ``write_atomic(path, text)`` replaces a file in one rename.

Every failure raises ``TomlError``, which carries ``msg`` and ``path``. Private to this
collection: no compatibility promise.
"""

import os
import stat
import tempfile
import traceback

# The reading half, re-exported: callers read and edit through this module alike.
from ansible_collections.lockstep.poetry.plugins.module_utils._toml_read import (  # pylint: disable=unused-import
    HAS_TOML_READER,
    READER,
    TomlError,
    get_path,
    load,
    loads,
    read_text,
    unwrap,
)

try:
    import tomlkit
    HAS_TOMLKIT = True
    TOMLKIT_IMPORT_ERROR = None
except ImportError:
    tomlkit = None
    HAS_TOMLKIT = False
    TOMLKIT_IMPORT_ERROR = traceback.format_exc()


def parse_document(text, path=None):
    """Parse TOML text into a tomlkit document that keeps comments and layout."""
    if not HAS_TOMLKIT:
        raise TomlError("Editing TOML files needs the Python library tomlkit", path)
    try:
        document = tomlkit.parse(text)
        # Old tomlkit accepts some invalid files (0.6.0 takes an unclosed "[table"); where the
        # strict parser Poetry itself reads with is here, a file it would refuse is not edited.
        if READER is not None:
            READER.loads(text)
    except Exception as error:  # each parser has its own error class
        raise TomlError("Cannot parse %s: %s" % (path or "TOML text", error), path)
    return document


def load_document(path, missing_ok=False):
    """A tomlkit document of the file; an empty one for a missing file if missing_ok."""
    text = read_text(path, missing_ok)
    return parse_document("" if text is None else text, path)


def dumps(document):
    """The text of a tomlkit document."""
    return tomlkit.dumps(document)


def set_path(document, keys, value):
    """Set ``document[k1][k2]...`` to value, creating missing tables on the way.

    Raises TomlError when a key on the way holds something other than a table.
    """
    keys = list(keys)
    container = document
    for index, key in enumerate(keys[:-1]):
        if key not in container:
            container[key] = tomlkit.table()
        container = container[key]
        if not isinstance(container, dict):
            raise TomlError("%s is not a table" % ".".join(keys[:index + 1]))
    container[keys[-1]] = value


def remove_path(document, keys):
    """Delete ``document[k1][k2]...`` and the tables the deletion leaves empty.

    Returns True when something was deleted.
    """
    keys = list(keys)
    parents = []
    container = document
    for key in keys:
        if not isinstance(container, dict) or key not in container:
            return False
        parents.append((container, key))
        container = container[key]
    while parents:
        parent, key = parents.pop()
        del parent[key]
        # Never prune the document itself, nor a table that still holds other keys.
        if not parents or len(parent) > 0:
            break
    return True


def _is_array_of_tables(value):
    return isinstance(value, tomlkit.items.AoT)


def append_table(document, keys, pairs):
    """Append a table of (key, value) pairs to the array at ``document[k1][k2]...``.

    The array is created as an array of tables (``[[k1.k2]]``) when missing; an inline array of
    tables gets an inline table. Key order is kept.
    """
    keys = list(keys)
    array = get_path(document, keys)
    inline = array is not None and not _is_array_of_tables(array)
    entry = tomlkit.inline_table() if inline else tomlkit.table()
    for key, value in pairs:
        entry[key] = value
    if inline:
        array.append(entry)
        return
    # Tables of an array are set apart by a blank line, as Poetry writes them.
    entry.add(tomlkit.nl())
    if array is None:
        array = tomlkit.aot()
        array.append(entry)
        set_path(document, keys, array)
        return
    if len(array) > 0 and not array[-1].as_string().endswith("\n\n"):
        array[-1].add(tomlkit.nl())
    array.append(entry)


def remove_item(document, keys, index):
    """Remove item ``index`` of the array at ``document[k1][k2]...``; the key goes with its
    last item."""
    keys = list(keys)
    array = get_path(document, keys)
    remaining = [item for position, item in enumerate(array) if position != index]
    if not remaining:
        remove_path(document, keys)
        return
    if not _is_array_of_tables(array):
        del array[index]
        return
    # tomlkit 0.6.0 does not render a deletion from an array of tables: build the array anew.
    # (Not for inline arrays: 0.6.0 turns their parsed tables into key lines when rebuilding.)
    rebuilt = tomlkit.aot()
    for item in remaining:
        rebuilt.append(item)
    set_path(document, keys, rebuilt)


def write_atomic(path, text, mode=0o600):
    """Replace the file at path with text, in one rename.

    The text goes to a temporary file in the same directory, is flushed to disk, and renamed over
    the file, so readers see the old or the new content and never a part. A new file gets
    ``mode`` and belongs to the user the process runs as (missing parent directories are created
    with mode 0700); an existing file keeps its mode, owner and group. A symlink is followed: the
    file it points to is replaced.
    """
    path = os.path.realpath(path)
    directory = os.path.dirname(path)
    try:
        current = os.stat(path)
    except FileNotFoundError:
        current = None
    except OSError as error:
        raise TomlError("Cannot write %s: %s" % (path, error), path)
    try:
        if current is None and not os.path.isdir(directory):
            os.makedirs(directory, 0o700)
        handle, temporary = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), dir=directory)
    except OSError as error:
        raise TomlError("Cannot write %s: %s" % (path, error), path)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(text.encode("utf-8"))
            stream.flush()
            os.fsync(stream.fileno())
        if current is None:
            os.chmod(temporary, mode)
        else:
            os.chmod(temporary, stat.S_IMODE(current.st_mode))
            if (current.st_uid, current.st_gid) != (os.geteuid(), os.getegid()):
                os.chown(temporary, current.st_uid, current.st_gid)
        os.rename(temporary, path)
    except OSError as error:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise TomlError("Cannot write %s: %s" % (path, error), path)
    _fsync_directory(directory)


def _fsync_directory(directory):
    """Make the rename itself durable; not every file system allows opening a directory."""
    try:
        handle = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)
