# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The start of a helper that imports the collection's module_utils (see plugin_utils/_helper.py,
which appends ``run(SOURCES, MAIN)`` to this file's text and runs the whole as one program).

SOURCES maps module names (ansible_collections.lockstep.poetry.plugins.module_utils._install)
to their source; run() lets Python's import find them there, compiled when first imported, the
packages above them being empty, and then runs MAIN, the helper's own source, as __main__. No
file is written on the host: the program goes to Python's standard input where the connection
pipelines, as a module would."""
import sys
from importlib.machinery import ModuleSpec


class ShippedSources:
    """A finder and loader (importlib's protocols) for the modules in sources."""

    def __init__(self, sources):
        self.sources = sources
        self.packages = set()
        for name in sources:
            parts = name.split(".")
            self.packages.update(".".join(parts[:end]) for end in range(1, len(parts)))

    def find_spec(self, name, path=None, target=None):
        if name in self.sources or name in self.packages:
            return ModuleSpec(name, self, is_package=name in self.packages)
        return None

    def create_module(self, spec):
        return None  # the default module object

    def exec_module(self, module):
        name = module.__name__
        exec(compile(self.sources.get(name, ""), "<%s>" % name, "exec"), module.__dict__)


def run(sources, main):
    sys.meta_path.insert(0, ShippedSources(sources))
    exec(compile(main, "<helper>", "exec"), {"__name__": "__main__"})
