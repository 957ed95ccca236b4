"""Stand-in for Poetry's official installer (https://install.python-poetry.org) in tests.

This is NOT the official script and shares no code with it. The test machines cannot download
the official script, and the collection must not carry a copy of it, so the tests of the role
lockstep.poetry.poetry with poetry_install_method=installer point poetry_installer_src here.

    python3 install_poetry_standin.py --version VERSION [--force] [--yes]

It honours the part of the official script's interface that the role relies on:
- POETRY_HOME (else $XDG_DATA_HOME/pypoetry, with the command in ~/.local/bin) receives venv/,
  a virtualenv of the Python that runs this script (with the marker file poetry_env that Poetry
  looks for), bin/poetry, a link to venv/bin/poetry, and VERSION;
- Poetry goes in with `pip install poetry==VERSION`, so pip's own configuration and PIP_*
  variables (PIP_INDEX_URL, PIP_CERT) choose the index and the CAs;
- VERSION already installed and no --force: nothing to do, exit code 0; --yes is accepted
  (no prompt is ever needed);
- on failure the half-built virtualenv is removed and the previous one, set aside as
  venv.save, is put back; the output of the failed step goes to poetry-installer-error-*.log
  in the working directory; the exit code is the failed step's (1 for other errors).

Where it differs: the official script reads the release list from pypi.org's JSON API (which
the test machines cannot reach) and refuses an unknown version before touching anything; here
pip finds out, after the old virtualenv was set aside, and it is put back. The official script
also upgrades pip in the new virtualenv first, and has options the role does not use
(--preview, --path, --git, --uninstall); this one has not.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import venv
from pathlib import Path


class StepFailed(Exception):
    def __init__(self, returncode, output):
        super().__init__(output)
        self.returncode = returncode
        self.output = output


def locations():
    """(home, bin directory), as the official script chooses them on Linux."""
    if os.environ.get("POETRY_HOME"):
        home = Path(os.environ["POETRY_HOME"]).expanduser()
        return home, home / "bin"
    data = Path(os.environ.get("XDG_DATA_HOME") or "~/.local/share").expanduser()
    return data / "pypoetry", Path("~/.local/bin").expanduser()


def run(*argv):
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    if proc.returncode != 0:
        raise StepFailed(proc.returncode, proc.stdout)


def build(env_dir, version):
    try:
        venv.EnvBuilder(clear=True, with_pip=True, symlinks=False).create(env_dir)
    except subprocess.CalledProcessError as exc:
        raise StepFailed(exc.returncode, "creating %s failed: %s" % (env_dir, exc)) from exc
    (env_dir / "poetry_env").touch()
    run(str(env_dir / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check",
        "poetry==" + version)


def install(home, bin_dir, version):
    env_dir, saved = home / "venv", home / "venv.save"
    home.mkdir(parents=True, exist_ok=True)
    if saved.exists():
        shutil.rmtree(saved)
    if env_dir.exists():
        env_dir.rename(saved)
    try:
        build(env_dir, version)
    except BaseException:
        shutil.rmtree(env_dir, ignore_errors=True)
        if saved.exists():
            saved.rename(env_dir)
        raise
    shutil.rmtree(saved, ignore_errors=True)
    bin_dir.mkdir(parents=True, exist_ok=True)
    command = bin_dir / "poetry"
    if command.is_symlink() or command.exists():
        command.unlink()
    command.symlink_to(env_dir / "bin" / "poetry")
    (home / "VERSION").write_text(version)


def main():
    parser = argparse.ArgumentParser(description="Stand-in for Poetry's official installer (tests only).")
    parser.add_argument("--version", default=os.environ.get("POETRY_VERSION"),
                        help="the Poetry release to install (required: no release list is read)")
    parser.add_argument("-f", "--force", action="store_true", help="install even if VERSION is installed")
    parser.add_argument("-y", "--yes", action="store_true", help="accepted; nothing is ever asked")
    args = parser.parse_args()
    if not args.version:
        parser.error("--version is required")

    home, bin_dir = locations()
    version_file = home / "VERSION"
    if not args.force and version_file.is_file() and version_file.read_text().strip() == args.version:
        print("Poetry %s is already installed in %s." % (args.version, home))
        return 0
    print("Installing Poetry %s into %s" % (args.version, home))
    try:
        install(home, bin_dir, args.version)
    except StepFailed as exc:
        fd, log = tempfile.mkstemp(prefix="poetry-installer-error-", suffix=".log", dir=os.getcwd(), text=True)
        with os.fdopen(fd, "w") as stream:
            stream.write(exc.output)
        print("Poetry installation failed; the previous installation, if any, is back in place.")
        print("See %s for error logs." % log)
        return exc.returncode
    print("Poetry %s is installed: %s" % (args.version, bin_dir / "poetry"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
