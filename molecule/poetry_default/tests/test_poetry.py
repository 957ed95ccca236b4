"""What a user of lockstep.poetry.poetry relies on, checked on each host after converge."""

import shlex

import pytest

testinfra_hosts = ["ansible://installs"]

# A project with one dependency from PyPI, in the [tool.poetry] layout that Poetry 1.8 and 2.x
# both read. PyPI's JSON API, which Poetry uses unless the mirror plugin replaces it, is not
# reachable from these hosts: locking succeeds only through the mirror.
PROJECT = """\
[tool.poetry]
name = "mirror-probe"
version = "0.1.0"
description = ""
authors = []
package-mode = false

[tool.poetry.dependencies]
python = ">=3.9"
six = "*"
"""


@pytest.fixture
def settings(host):
    return host.ansible.get_variables()


def run_ok(host, command):
    result = host.run(command)
    assert result.rc == 0, f"{command}: {result.stdout}{result.stderr}"
    return result.stdout


def test_poetry_runs_the_pinned_version(host, settings):
    out = run_ok(host, "/usr/local/bin/poetry --version")
    assert f"(version {settings['poetry_version']})" in out


def test_plugins_are_installed(host):
    out = run_ok(host, "/usr/local/bin/poetry self show plugins")
    assert "poetry-plugin-export" in out
    assert "poetry-plugin-pypi-mirror" in out


def test_layout_owners_and_modes(host, settings):
    home = host.file("/opt/poetry")
    assert home.is_directory and home.user == "root" and home.mode == 0o755
    command = host.file("/opt/poetry/bin/poetry")
    assert command.is_file and command.user == "root" and command.mode == 0o755
    link = host.file("/usr/local/bin/poetry")
    assert link.is_symlink and link.linked_to == "/opt/poetry/bin/poetry"
    if settings.get("poetry_install_method", "venv") == "venv":
        venv = host.file("/opt/poetry/venv")
        assert venv.is_symlink
        assert venv.linked_to.startswith(f"/opt/poetry/venv-{settings['poetry_version']}-py3.")
        # Only the virtualenv in use is kept.
        assert len(host.check_output("ls -d /opt/poetry/venv-*").split()) == 1
    else:
        assert host.file("/opt/poetry/venvs/poetry/pipx_metadata.json").is_file


def test_every_user_goes_through_the_mirror(host):
    command = host.file("/opt/poetry/bin/poetry").content_string
    assert "POETRY_PYPI_MIRROR_URL=${POETRY_PYPI_MIRROR_URL:-https://pypi.org/simple/}" in command
    project = host.check_output("mktemp -d")
    host.check_output(f"printf %s {shlex.quote(PROJECT)} > {project}/pyproject.toml")
    # As an unprivileged user with nothing configured: the setting comes with the command.
    host.check_output(f"chown -R nobody {project}")
    run_ok(host, f"cd {project} && runuser -u nobody -- env HOME={project} "
                 "/usr/local/bin/poetry lock --no-interaction")
    assert 'name = "six"' in host.file(f"{project}/poetry.lock").content_string


def test_per_user_install_without_root(host, settings):
    user = settings.get("poetry_test_user")
    if not user:
        pytest.skip("no per-user install on this host")
    home = f"/home/{user}"
    out = run_ok(host, f"runuser -u {user} -- {home}/.local/bin/poetry --version")
    assert f"(version {settings['poetry_version']})" in out
    link = host.file(f"{home}/.local/bin/poetry")
    assert link.is_symlink and link.user == user
    assert link.linked_to == f"{home}/.local/share/pypoetry/bin/poetry"
    assert host.file(f"{home}/.local/share/pypoetry").user == user
    # Nothing under the user's home belongs to anyone else.
    assert host.check_output(f"find {home} ! -user {user}") == ""
