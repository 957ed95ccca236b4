# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""File checksums, the one way the collection computes them, on the controller, in modules and
in the host helpers (plugin_utils/_helper.py sends this file with a helper that imports it).
Private to this collection: no compatibility promise."""

import hashlib


def file_digest(path, algorithm="sha256"):
    """The hex digest of a file's bytes, read in blocks; None when there is no such file."""
    digest = hashlib.new(algorithm)
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None
    return digest.hexdigest()


def text_digest(text, algorithm="sha1"):
    """The hex digest of a text's UTF-8 bytes (what Jinja's hash filter gives for it)."""
    return hashlib.new(algorithm, text.encode("utf-8")).hexdigest()
