"""What the shop front's users and operators care about, whatever release is deployed: it
answers, from the release that `current` points to, as its own user, with production
dependencies only, its environment file is private, and the host's log holds no credentials."""

import json
import os

import pytest

ROOT = "/srv/shopfront"


@pytest.fixture(scope="module")
def front_page(host):
    port = str(host.ansible.get_variables()["shopfront_port"])
    return json.loads(host.check_output("curl -fsS http://127.0.0.1:%s/", port))


def test_service_is_enabled_and_running(host):
    service = host.service("shopfront")
    assert service.is_enabled
    assert service.is_running


def test_answers_from_the_current_release(host, front_page):
    current = host.file(ROOT + "/current")
    assert current.is_symlink
    assert front_page["directory"] == current.linked_to
    assert front_page["greeting"].startswith("hello molecule from lockstep-sample-lib ")


def test_runs_as_its_own_user(host):
    # This deployment's processes (ssh.yml deploys another beside it, under another root).
    workers = [worker for worker in host.process.filter(comm="gunicorn") if ROOT + "/" in worker.args]
    assert workers
    assert {worker.user for worker in workers} == {"shopfront"}


def test_virtualenv_holds_production_dependencies_only(host):
    python = ROOT + "/current/.venv/bin/python"
    assert host.run("%s -c 'import gunicorn, humanize, lockstep_sample_lib'", python).rc == 0
    # pytest is in the project's dev group.
    assert host.run("%s -c 'import pytest'", python).rc != 0


def test_environment_file_is_private(host):
    env = host.file(ROOT + "/app.env")
    assert env.mode == 0o600
    assert env.user == "shopfront"
    assert 'SHOPFRONT_CUSTOMER="molecule"' in env.content_string


def test_shared_path_outlives_releases(host):
    uploads = host.file(ROOT + "/current/var/uploads")
    assert uploads.is_symlink
    assert uploads.linked_to == ROOT + "/shared/var/uploads"


def test_pre_switch_command_ran_in_the_release(host, front_page):
    trace = host.file(ROOT + "/shared/var/uploads/pre-switch-" + front_page["release"])
    assert trace.user == "shopfront"
    assert trace.content_string == "molecule"


@pytest.mark.parametrize("hook", ["after-stage", "after-switch"])
def test_hooks_ran_in_the_release(host, front_page, hook):
    trace = host.file(ROOT + "/shared/var/uploads/%s-%s" % (hook, front_page["release"]))
    assert trace.exists and trace.user == "shopfront"


def test_system_log_holds_no_index_password(host):
    """Poetry got the private index's credentials through the modules' env option: the lines
    the modules write to the journal mask the password, and sudo, which logs every command
    line it runs, never saw it (as it would through the environment keyword)."""
    with open(os.environ["LOCKSTEP_INDEX_STATE"]) as handle:
        password = json.load(handle)["password"]
    journal = host.check_output("journalctl --no-pager --output=cat")
    # The modules logged their arguments: the user name shows, the password must not.
    assert "POETRY_HTTP_BASIC_LOCKSTEP_USERNAME" in journal
    leaked = password in journal
    assert not leaked, "the private index's password is in the journal"
