# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The environment Poetry uses for a project, by its rules (module_utils/_poetry_env.py).

The names and the choices were checked against `poetry env info --path` of Poetry 1.8.5 and
2.5.1; the integration target install_env compares them on a real host."""

import os

import pytest

from ansible_collections.lockstep.poetry.plugins.module_utils import _poetry_config
from ansible_collections.lockstep.poetry.plugins.module_utils import _poetry_env as pe
from ansible_collections.lockstep.poetry.tests.unit.plugins.modules.fake_poetry import make_poetry_installation

V1 = (1, 8, 5)
V2 = (2, 5, 1)
PROJECT = "/srv/app"
VENVS = "/cache/virtualenvs"
NAME = "demo-app-Abcdefgh"
PYTHONS = {"/usr/bin/python": "3.12", "/opt/poetry/bin/python": "3.11"}


def facts(**changes):
    """A project without any environment yet, on Poetry 2.x, `python` on PATH being 3.12."""
    values = dict(
        poetry=V2, environ={}, project=PROJECT, env_name=NAME, in_project=None, has_venv=False, create=True,
        virtualenvs=VENVS, cached=[], recorded=None, prefer_active=True, active_python="/usr/bin/python",
        poetry_python="/opt/poetry/bin/python", minor_of=PYTHONS.get,
    )
    values.update(changes)
    return pe.Facts(**values)


IN_PROJECT = PROJECT + "/.venv"
ACTIVE = {"VIRTUAL_ENV": "/home/dev/venv"}


@pytest.mark.parametrize("changes, expected", [
    # No environment anywhere: the next install creates one.
    ({}, None),
    ({"poetry": V1, "prefer_active": False}, None),
    # The in-project .venv, unless virtualenvs.in-project is false (true or unset: used).
    ({"has_venv": True}, IN_PROJECT),
    ({"has_venv": True, "in_project": True}, IN_PROJECT),
    ({"has_venv": True, "in_project": False}, None),
    ({"has_venv": True, "in_project": False, "cached": [NAME + "-py3.12"]}, VENVS + "/" + NAME + "-py3.12"),
    # An active virtualenv wins over .venv and the cache...
    ({"environ": ACTIVE, "has_venv": True}, "/home/dev/venv"),
    ({"environ": ACTIVE, "cached": [NAME + "-py3.12"]}, "/home/dev/venv"),
    ({"environ": {"CONDA_PREFIX": "/opt/conda/envs/app"}}, "/opt/conda/envs/app"),
    ({"environ": {"VIRTUAL_ENV": "/v", "CONDA_PREFIX": "/opt/conda"}}, "/v"),
    # ...but not Conda's base environment, which most users have active all the time...
    ({"environ": {"CONDA_PREFIX": "/opt/conda", "CONDA_DEFAULT_ENV": "base"}, "has_venv": True}, IN_PROJECT),
    # ...nor an environment that `poetry env use` recorded for the project.
    ({"environ": ACTIVE, "recorded": "3.11", "cached": [NAME + "-py3.11"]}, VENVS + "/" + NAME + "-py3.11"),
    ({"environ": ACTIVE, "recorded": "3.11", "has_venv": True}, IN_PROJECT),
    # An empty VIRTUAL_ENV is none for Poetry 2.x; what 1.8 makes of it, 1.8 says.
    ({"environ": {"VIRTUAL_ENV": ""}}, None),
    ({"environ": {"VIRTUAL_ENV": ""}, "poetry": V1}, pe.ASK_POETRY),
    # The cache: named after the Python version envs.toml records...
    ({"recorded": "3.11", "cached": [NAME + "-py3.11", NAME + "-py3.12"]}, VENVS + "/" + NAME + "-py3.11"),
    ({"recorded": "3.10", "cached": [NAME + "-py3.11"]}, None),
    # ...else the preferred interpreter's: `python` on PATH (2.x by default)...
    ({"cached": [NAME + "-py3.11", NAME + "-py3.12"]}, VENVS + "/" + NAME + "-py3.12"),
    ({"cached": [NAME + "-py3.11"]}, None),
    # ...or Poetry's own (2.x with virtualenvs.use-poetry-python, 1.8 by default).
    ({"prefer_active": False, "cached": [NAME + "-py3.11", NAME + "-py3.12"]}, VENVS + "/" + NAME + "-py3.11"),
    ({"poetry": V1, "prefer_active": False, "cached": [NAME + "-py3.11"]}, VENVS + "/" + NAME + "-py3.11"),
    # 1.8 with virtualenvs.prefer-active-python falls back to its own when there is no `python`;
    # 2.x searches further, as only Poetry can.
    ({"poetry": V1, "active_python": None, "cached": [NAME + "-py3.11"]}, VENVS + "/" + NAME + "-py3.11"),
    ({"active_python": None, "cached": [NAME + "-py3.11"]}, pe.ASK_POETRY),
    # What cannot be told without Poetry: its own interpreter, an interpreter that does not
    # say its version, the environment Poetry uses with virtualenvs.create false.
    ({"prefer_active": False, "poetry_python": None, "cached": [NAME + "-py3.11"]}, pe.ASK_POETRY),
    ({"minor_of": lambda python: None, "cached": [NAME + "-py3.11"]}, pe.ASK_POETRY),
    ({"create": False}, pe.ASK_POETRY),
    ({"create": False, "has_venv": True}, IN_PROJECT),
])
def test_choose(changes, expected):
    assert pe.choose(facts(**changes)) == expected


def test_the_interpreter_runs_only_when_its_version_matters():
    def minor_of(python):
        raise AssertionError("ran %s" % python)

    assert pe.choose(facts(minor_of=minor_of)) is None
    assert pe.choose(facts(minor_of=minor_of, has_venv=True)) == IN_PROJECT
    assert pe.choose(facts(minor_of=minor_of, recorded="3.11", cached=[NAME + "-py3.11"])).endswith("-py3.11")


@pytest.mark.parametrize("name, path, expected", [
    # Checked against the virtualenvs Poetry 1.8.5 and 2.5.1 created for these projects.
    ("demo-app", "/tmp/h2p/proj", "demo-app-AioPJhn6"),
    ("a$b c", "/srv/app", "a_b_c-" + pe.env_name("x", "/srv/app")[2:]),
    ("n" * 50, "/srv/app", "n" * 42 + "-" + pe.env_name("x", "/srv/app")[2:]),
])
def test_env_name(name, path, expected):
    assert pe.env_name(name, path) == expected


@pytest.mark.parametrize("pyproject, version, expected", [
    ({"tool": {"poetry": {"name": "Demo_App"}}}, V1, "demo-app"),
    ({"project": {"name": "Demo.App"}, "tool": {"poetry": {}}}, V2, "demo-app"),
    ({"project": {"name": "new"}, "tool": {"poetry": {"name": "old"}}}, V2, "new"),
    # Poetry 1.8 reads only [tool.poetry].
    ({"project": {"name": "new"}, "tool": {"poetry": {"name": "old"}}}, V1, "old"),
    ({"tool": {"poetry": {"package-mode": False}}}, V2, "non-package-mode"),
])
def test_project_name(pyproject, version, expected):
    assert pe.project_name(pyproject, version) == expected


@pytest.mark.parametrize("path, expected", [
    ("python3.11", "3.11"),
    ("python3.12", "3.12"),
])
def test_interpreter_minor_from_its_name(path, expected, tmp_path):
    python = tmp_path / path
    python.write_text("")
    link = tmp_path / "python"
    link.symlink_to(python)

    class NoRuns:
        def execute(self, cmd, cwd=None):
            raise AssertionError("ran %s" % cmd)

    assert pe.interpreter_minor(NoRuns(), str(link), str(tmp_path)) == expected


@pytest.mark.parametrize("rc, out, expected", [(0, "3.13\n", "3.13"), (1, "", None), (0, "Python\n", None)])
def test_interpreter_minor_by_running_it(rc, out, expected, tmp_path):
    class Runs:
        def execute(self, cmd, cwd=None):
            assert cmd[:2] == ["/shims/python", "-c"] and cwd == str(tmp_path)
            return rc, out, ""

    assert pe.interpreter_minor(Runs(), "/shims/python", str(tmp_path)) == expected


class Runner:
    """What gather() uses of PoetryRunner."""

    def __init__(self, environ, executable):
        self._environ, self.executable = environ, executable

    def environ(self):
        return self._environ


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def host(tmp_path):
    """A project, and the environment that points Poetry at its config dir and cache."""
    write(tmp_path / "app" / "pyproject.toml", '[tool.poetry]\nname = "Demo_App"\n')
    environ = {"POETRY_CONFIG_DIR": str(tmp_path / "config"), "POETRY_CACHE_DIR": str(tmp_path / "cache"),
               "PATH": str(tmp_path / "empty")}
    return tmp_path, environ


def runner(tmp_path, environ, version):
    return Runner(environ, make_poetry_installation(tmp_path, ".".join(str(part) for part in version)))


@pytest.mark.parametrize("version", [V1, V2])
def test_gather(version, host):
    tmp_path, environ = host
    facts = pe.gather(runner(tmp_path, environ, version), str(tmp_path / "app"))
    name = pe.env_name("demo-app", str(tmp_path / "app"))
    assert facts._replace(minor_of=None) == pe.Facts(
        poetry=version, environ=environ, project=str(tmp_path / "app"), env_name=name, in_project=None,
        has_venv=False, create=True, virtualenvs=str(tmp_path / "cache" / "virtualenvs"), cached=[],
        recorded=None, prefer_active=version >= (2, 0), active_python=None,
        poetry_python=os.path.join(str(tmp_path), "poetry-%d.%d.%d" % version, "bin", "python3.11"), minor_of=None)


@pytest.mark.parametrize("version", [V1, V2])
def test_gather_reads_the_settings_and_the_record(version, host):
    tmp_path, environ = host
    environ = dict(environ, POETRY_VIRTUALENVS_CREATE="false")
    write(tmp_path / "config" / "config.toml",
          '[virtualenvs]\nin-project = true\npath = "{cache-dir}/envs"\nprefer-active-python = true\n'
          'use-poetry-python = true\n')
    write(tmp_path / "app" / "poetry.toml", "[virtualenvs]\nin-project = false\n")
    (tmp_path / "app" / ".venv").mkdir()
    name = pe.env_name("demo-app", str(tmp_path / "app"))
    write(tmp_path / "cache" / "envs" / "envs.toml", '[%s]\nminor = "3.10"\npatch = "3.10.4"\n' % name)
    (tmp_path / "cache" / "envs" / (name + "-py3.10")).mkdir()
    (tmp_path / "cache" / "envs" / "other-app-Abcdefgh-py3.10").mkdir()
    facts = pe.gather(runner(tmp_path, environ, version), str(tmp_path / "app"))
    assert (facts.in_project, facts.has_venv, facts.create) == (False, True, False)
    assert facts.virtualenvs == str(tmp_path / "cache" / "envs")
    assert (facts.cached, facts.recorded) == ([name + "-py3.10"], "3.10")
    # 2.x: use-poetry-python; 1.8: prefer-active-python.
    assert facts.prefer_active is (version < (2, 0))


def test_gather_leaves_to_poetry_what_poetry_tells_better(host):
    tmp_path, environ = host
    # Its version, where its installation does not tell it.
    unknown = tmp_path / "bin" / "poetry"
    write(unknown, "#!/bin/sh\n")
    assert pe.gather(Runner(environ, str(unknown)), str(tmp_path / "app")) is pe.ASK_POETRY
    # What is wrong with a file.
    write(tmp_path / "app" / "poetry.toml", "[virtualenvs\n")
    assert pe.gather(runner(tmp_path, environ, V2), str(tmp_path / "app")) is pe.ASK_POETRY


@pytest.mark.parametrize("name, environ, documents, version, expected", [
    # The environment variable wins; a boolean is true only for "true" or "1".
    ("virtualenvs.in-project", {"POETRY_VIRTUALENVS_IN_PROJECT": "1"}, [{"virtualenvs": {"in-project": False}}], V2, True),
    ("virtualenvs.in-project", {"POETRY_VIRTUALENVS_IN_PROJECT": "yes"}, [], V2, False),
    ("virtualenvs.in-project", {"POETRY_VIRTUALENVS_IN_PROJECT": ""}, [], V2, False),
    # Poetry 1.8 compares case-sensitively.
    ("virtualenvs.in-project", {"POETRY_VIRTUALENVS_IN_PROJECT": "True"}, [], V2, True),
    ("virtualenvs.in-project", {"POETRY_VIRTUALENVS_IN_PROJECT": "True"}, [], V1, False),
    # Then poetry.toml over config.toml, then the default.
    ("virtualenvs.in-project", {}, [{"virtualenvs": {"in-project": False}}, {"virtualenvs": {"in-project": True}}],
     V2, False),
    ("virtualenvs.in-project", {}, [{}, {"virtualenvs": {"in-project": True}}], V2, True),
    ("virtualenvs.in-project", {}, [{}, {}], V2, None),
    ("virtualenvs.path", {"POETRY_VIRTUALENVS_PATH": "/srv/envs/"}, [], V2, "/srv/envs"),
    ("cache-dir", {}, [{}, {"cache-dir": "~/cache"}], V1, "~/cache"),
])
def test_setting_in_use(name, environ, documents, version, expected):
    assert _poetry_config.setting_in_use(name, environ, documents, version) == expected


@pytest.mark.parametrize("environ, expected", [
    ({"XDG_CACHE_HOME": "/xdg"}, "/xdg/pypoetry"),
    ({"XDG_CACHE_HOME": " "}, "/home/app/.cache/pypoetry"),
    ({}, "/home/app/.cache/pypoetry"),
])
def test_default_cache_dir(environ, expected, monkeypatch):
    monkeypatch.setattr(_poetry_config.sys, "platform", "linux")
    monkeypatch.setenv("HOME", "/home/app")
    assert _poetry_config.default_cache_dir(environ) == expected


def test_default_cache_dir_on_macos(monkeypatch):
    monkeypatch.setattr(_poetry_config.sys, "platform", "darwin")
    monkeypatch.setenv("HOME", "/Users/app")
    assert _poetry_config.default_cache_dir({}) == os.path.join("/Users/app/Library/Caches", "pypoetry")
