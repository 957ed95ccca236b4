# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Output captured from real Poetry by fixtures/capture.sh, for the parser and runner tests."""

import os
import re

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
VERSIONS = ["1.8.5", "2.5.1"]


class Captured:
    """One fixture file: a header (version, command, rc), then stdout and stderr."""

    def __init__(self, version, name):
        with open(os.path.join(FIXTURES, "poetry-%s" % version, name + ".txt")) as handle:
            text = handle.read()
        header, rest = text.split("# --- stdout\n", 1)
        self.stdout, self.stderr = rest.split("# --- stderr\n", 1)
        self.command = re.search(r"^# Poetry \S+: (.*)$", header, re.MULTILINE).group(1)
        self.rc = int(re.search(r"^# rc: (\d+)$", header, re.MULTILINE).group(1))

    def port(self):
        """The port of the index the captured command talked to, if it names one."""
        match = re.search(r"127\.0\.0\.1(?::|', port=)(\d+)", self.stdout + self.stderr)
        return match.group(1) if match else None
