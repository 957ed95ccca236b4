# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which environment Poetry uses for a project, found by Poetry's own rules without starting it.

Poetry 1.8 and 2.x (EnvManager.get()) take, in this order:
1. an active virtualenv (VIRTUAL_ENV, else CONDA_PREFIX unless CONDA_DEFAULT_ENV is "base"),
   unless Poetry's cache records an environment for the project (envs.toml, `poetry env use`);
2. the project's .venv directory when it exists, unless virtualenvs.in-project is false;
3. with virtualenvs.create false, its own interpreter's environment (not a virtualenv);
4. {virtualenvs.path}/{env_name()}-py{X.Y}, X.Y being the Python version envs.toml records
   for the project, else that of the interpreter Poetry prefers (its own, or `python` on PATH:
   see preferred_python()); no environment when that directory does not exist.

choose() applies the rules to Facts, a pure function; gather() reads the facts from the
project, Poetry's files and the environment. Where the rules need what only Poetry knows
(step 3, an interpreter found by Poetry's own search, unreadable files, a Poetry whose version
its installation does not tell), the answer is ASK_POETRY and the caller runs
`poetry env info --path`.

Private to this collection: no compatibility promise.
"""

import base64
import collections
import os
import re
import shutil

from ansible_collections.lockstep.poetry.plugins.module_utils import _poetry_config
from ansible_collections.lockstep.poetry.plugins.module_utils._hashing import text_digest
from ansible_collections.lockstep.poetry.plugins.module_utils._names import canonical_name
from ansible_collections.lockstep.poetry.plugins.module_utils._runner import installed_version, poetry_interpreter
from ansible_collections.lockstep.poetry.plugins.module_utils._toml_read import HAS_TOML_READER, TomlError, get_path, load

ASK_POETRY = "ask Poetry"
IN_PROJECT_VENV = ".venv"
# Poetry's record of the environment `poetry env use` chose for each project, in virtualenvs.path.
ENVS_FILE = "envs.toml"
# What Poetry 2.0 changed here: an empty VIRTUAL_ENV counts as none (1.8 takes it for the
# current directory); `virtualenvs.use-poetry-python` replaced `virtualenvs.prefer-active-python`
# with the opposite default (2.x prefers `python` on PATH, 1.8 its own interpreter).
POETRY_2 = (2, 0)

_MINOR_RE = re.compile(r"^python(\d+\.\d+)$")
_UNSAFE_IN_NAME_RE = re.compile(r'[ $`!*@"\\\r\n\t]')
_PRINT_MINOR = "import sys; print('%d.%d' % sys.version_info[:2])"

Facts = collections.namedtuple("Facts", [
    "poetry",          # Poetry's version, a tuple
    "environ",         # the environment Poetry starts with
    "project",         # the project's directory as Poetry sees it (symbolic links resolved)
    "env_name",        # env_name() of the project
    "in_project",      # virtualenvs.in-project: True, False or None (not set)
    "has_venv",        # whether the project's .venv directory exists
    "create",          # virtualenvs.create
    "virtualenvs",     # virtualenvs.path, resolved
    "cached",          # the names in virtualenvs that start with env_name + "-py"
    "recorded",        # the Python version (X.Y) envs.toml records for the project, or None
    "prefer_active",   # Poetry prefers `python` on PATH to its own interpreter
    "active_python",   # `python` on Poetry's PATH, or None
    "poetry_python",   # Poetry's own interpreter, or None when unknown
    "minor_of",        # interpreter path -> its Python version "X.Y" (called only when needed)
])


def env_name(project_name, project_dir):
    """The name Poetry gives the project's environments before "-pyX.Y": the lower-case name
    with unsafe characters replaced, cut to 42 characters, and 8 characters of the URL-safe
    base64 of the SHA-256 of the project's real path."""
    name = _UNSAFE_IN_NAME_RE.sub("_", project_name.lower())[:42]
    digest = bytes.fromhex(text_digest(os.path.normcase(os.path.realpath(project_dir)), "sha256"))
    return "%s-%s" % (name, base64.urlsafe_b64encode(digest).decode("ascii")[:8])


def project_name(pyproject, poetry_version):
    """The project's package name as Poetry knows it (PEP 503): [project] name (Poetry 2.x),
    else [tool.poetry] name, else the placeholder of a project without one (package-mode off)."""
    name = get_path(pyproject, ["project", "name"]) if poetry_version >= POETRY_2 else None
    return canonical_name(name or get_path(pyproject, ["tool", "poetry", "name"]) or "non-package-mode")


def active_virtualenv(environ, poetry_version):
    """The virtualenv (or Conda environment) active in `environ`, None, or ASK_POETRY."""
    prefix = environ.get("VIRTUAL_ENV", environ.get("CONDA_PREFIX"))
    if prefix is None or environ.get("CONDA_DEFAULT_ENV") == "base":
        return None
    if prefix == "":
        return None if poetry_version >= POETRY_2 else ASK_POETRY
    return prefix


def preferred_python(facts):
    """The interpreter whose version names a new environment, or ASK_POETRY: `python` on PATH
    when Poetry prefers it and finds it, else Poetry's own. Poetry 2.x searches further for a
    `python` that is not on PATH (findpython); that search is left to Poetry."""
    if facts.prefer_active:
        if facts.active_python:
            return facts.active_python
        if facts.poetry >= POETRY_2:
            return ASK_POETRY
    return facts.poetry_python or ASK_POETRY


def choose(facts):
    """The path of the environment Poetry uses, None when it has none yet (the next install
    creates it), or ASK_POETRY."""
    active = active_virtualenv(facts.environ, facts.poetry)
    if active is not None and facts.recorded is None:
        return active
    if facts.in_project is not False and facts.has_venv:
        return os.path.join(facts.project, IN_PROJECT_VENV)
    if not facts.create:
        return ASK_POETRY
    if not facts.cached:
        return None
    minor = facts.recorded
    if minor is None:
        python = preferred_python(facts)
        if python is ASK_POETRY:
            return ASK_POETRY
        minor = facts.minor_of(python)
        if minor is None:
            return ASK_POETRY
    name = "%s-py%s" % (facts.env_name, minor)
    return os.path.join(facts.virtualenvs, name) if name in facts.cached else None


def interpreter_minor(runner, python, cwd):
    """An interpreter's Python version "X.Y": from the name of the file it is (python3.11),
    else by running it in `cwd` the way Poetry would (pyenv's shims choose by directory); None
    when it does not run."""
    match = _MINOR_RE.match(os.path.basename(os.path.realpath(python)))
    if match:
        return match.group(1)
    rc, out, _err = runner.execute([python, "-c", _PRINT_MINOR], cwd=cwd)
    return out.strip() if rc == 0 and re.match(r"^\d+\.\d+$", out.strip()) else None


def _resolve(value, settings):
    """A setting's string with Poetry's placeholders ({cache-dir}) filled in."""
    return re.sub(r"{(.+?)}", lambda match: settings.get(match.group(1), match.group(0)), value)


def gather(runner, project_path):
    """The Facts of a project as Poetry would see them when run in it; ASK_POETRY when a file
    cannot be read (Poetry says why better)."""
    # The rules depend on Poetry's version; where its installation does not tell it, asking
    # Poetry for the version would cost as much as asking it for the environment.
    version = installed_version(runner.executable)
    if version is None or not HAS_TOML_READER:
        return ASK_POETRY
    environ = runner.environ()
    project = os.path.realpath(project_path)
    config = _poetry_config.config_file(_poetry_config.config_dir(None, environ))
    try:
        documents = [load(_poetry_config.project_config_file(project), missing_ok=True), load(config, missing_ok=True)]
        name = env_name(project_name(load(os.path.join(project, "pyproject.toml")), version), project)
    except (TomlError, UnicodeError):
        return ASK_POETRY

    def setting(key, default=None):
        return _poetry_config.setting_in_use(key, environ, documents, version, default)

    cache_dir = setting("cache-dir", _poetry_config.default_cache_dir(environ))
    virtualenvs = _resolve(setting("virtualenvs.path", os.path.join("{cache-dir}", "virtualenvs")),
                           {"cache-dir": cache_dir})
    # A relative path is relative to where Poetry runs: the project.
    virtualenvs = os.path.normpath(os.path.join(project, os.path.expanduser(virtualenvs)))
    try:
        recorded = get_path(load(os.path.join(virtualenvs, ENVS_FILE), missing_ok=True), [name, "minor"])
        cached = sorted(entry for entry in os.listdir(virtualenvs) if entry.startswith(name + "-py"))
    except TomlError:
        return ASK_POETRY
    except OSError:
        recorded, cached = None, []
    if version >= POETRY_2:
        prefer_active = not setting("virtualenvs.use-poetry-python", False)
    else:
        prefer_active = bool(setting("virtualenvs.prefer-active-python", False))
    return Facts(
        poetry=version, environ=environ, project=project, env_name=name,
        in_project=setting("virtualenvs.in-project"),
        has_venv=os.path.isdir(os.path.join(project, IN_PROJECT_VENV)),
        create=setting("virtualenvs.create", True), virtualenvs=virtualenvs, cached=cached,
        recorded=recorded if isinstance(recorded, str) else None, prefer_active=prefer_active,
        active_python=shutil.which("python", path=environ.get("PATH", os.defpath)),
        poetry_python=poetry_interpreter(runner.executable),
        minor_of=lambda python: interpreter_minor(runner, python, project),
    )


def poetry_environment(runner, project_path):
    """The environment Poetry uses for the project (a path that may not exist), None when it
    has none yet, or ASK_POETRY when Poetry's rules need Poetry itself to tell."""
    facts = gather(runner, project_path)
    return facts if facts is ASK_POETRY else choose(facts)
