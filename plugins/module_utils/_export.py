# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Requirements files from a project's lock (`poetry export`), for lockstep.poetry.export.

Poetry 1.8 ships the export command with itself; Poetry 2.x has it only with the plugin
poetry-plugin-export (the runner's failure explanation names the plugin when it is missing).
The options and their spelling are those of install's group and extra selection.

A project may declare the Poetry plugins it needs ([tool.poetry.requires-plugins], Poetry 2.x).
`poetry export` neither needs nor installs them (only `poetry install` and `sync` fill the
project's .poetry/plugins, which every command loads), so an export leaves the project as it
is; when the project requires poetry-plugin-export itself and Poetry lacks it, the failure says
that installing the project is what brings it.

Private to this collection: no compatibility promise.
"""

import os
import shutil
import tempfile

from ansible_collections.lockstep.poetry.plugins.module_utils._install import LOCK_FILE, SELECTION_ARGUMENT_SPEC
from ansible_collections.lockstep.poetry.plugins.module_utils._names import canonical_name
from ansible_collections.lockstep.poetry.plugins.module_utils._poetry_failures import (
    PLUGIN_COMMANDS,
    explain_project_plugin_command,
    missing_plugin_command,
)
from ansible_collections.lockstep.poetry.plugins.module_utils._runner import INSTALL_OPTIONS, PoetryError
from ansible_collections.lockstep.poetry.plugins.module_utils._toml import TomlError, get_path, load

# The options of install's selection that choose what to export (documented in
# doc_fragments/poetry.py GROUPS); root and sync have no meaning for a requirements file.
GROUP_OPTIONS = ("only", "with_groups", "without_groups", "extras", "all_extras")
GROUP_ARGUMENT_SPEC = {name: SELECTION_ARGUMENT_SPEC[name] for name in GROUP_OPTIONS}
FORMATS = ("requirements.txt", "constraints.txt")


def export_args(output, selection, with_hashes=True, output_format=FORMATS[0]):
    """argv (without `poetry`) that writes the export to `output`; `selection` holds the
    GROUP_OPTIONS (a module's params)."""
    args = ["export", "--format=%s" % output_format, "--output=%s" % output]
    if not with_hashes:
        args.append("--without-hashes")
    for name in GROUP_OPTIONS:
        args.extend(INSTALL_OPTIONS[name](selection.get(name)))
    return args


def required_plugins(project):
    """The PEP 503 names of the Poetry plugins the project declares ([tool.poetry.requires-plugins]);
    none when pyproject.toml cannot be read (Poetry then says why)."""
    try:
        plugins = get_path(load(project.pyproject), ["tool", "poetry", "requires-plugins"])
    except TomlError:
        return []
    return sorted(canonical_name(name) for name in plugins or {})


def _project_plugin_failure(error, project):
    """PoetryError saying why Poetry lacks the export command when the project requires its
    plugin; the runner's own error otherwise."""
    command = missing_plugin_command("%s\n%s" % (error.stdout or "", error.stderr or ""))
    if command is None or PLUGIN_COMMANDS[command] not in required_plugins(project):
        return error
    return PoetryError("poetry %s failed: %s" % (command, explain_project_plugin_command(command)),
                       cmd=error.cmd, rc=error.rc, stdout=error.stdout, stderr=error.stderr)


def export_text(runner, project, selection, with_hashes=True, output_format=FORMATS[0]):
    """What `poetry export` writes for the selection, exported into a scratch file; the project
    is not touched. The lock must be there: an export never resolves."""
    project.require_pyproject()
    if not os.path.isfile(project.lock):
        raise PoetryError(
            "no %s in %s: the requirements come from the lock, and exporting never resolves; create "
            "it with lockstep.poetry.lock (or poetry lock)" % (LOCK_FILE, project.path))
    scratch = tempfile.mkdtemp(prefix="lockstep-poetry-export-")
    try:
        output = os.path.join(scratch, "requirements.txt")
        runner.run(export_args(output, selection, with_hashes, output_format), cwd=project.path)
        with open(output) as handle:
            return handle.read()
    except PoetryError as error:
        raise _project_plugin_failure(error, project)
    except OSError as error:
        raise PoetryError("poetry export wrote no file: %s" % error)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
