# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""lockstep.poetry.credentials on real files: what lands in auth.toml, with which mode, what the
diff shows, and that no secret ever appears in the module's output."""

import json
import os
import stat

import pytest

from ansible_collections.lockstep.poetry.plugins.module_utils import _toml
from ansible_collections.lockstep.poetry.plugins.modules import credentials
from ansible_collections.lockstep.poetry.tests.unit.plugins.modules.run_module import run_module

pytestmark = pytest.mark.skipif(not _toml.HAS_TOMLKIT, reason="needs tomlkit")

PASSWORD = "s3cret-Pa55word-7f1d"
NEW_PASSWORD = "n3w-Pa55word-a9c2"
TOKEN = "pypi-AgEIcHlwaS5vcmcCJGExYjItdG9rZW4"


@pytest.fixture
def config_dir(tmp_path):
    return tmp_path / "pypoetry"


@pytest.fixture
def run(capsys, config_dir):
    """Run the module like Ansible does; return its result, checking that no secret leaked."""
    def run(check_mode=False, **args):
        args.setdefault("config_dir", str(config_dir))
        result = run_module(credentials, capsys, args, check_mode=check_mode)
        output = json.dumps(result)
        for secret in (PASSWORD, NEW_PASSWORD, TOKEN):
            assert secret not in output
        return result
    return run


def auth(config_dir):
    return _toml.load(str(config_dir / "auth.toml"))


def mode(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


def test_creates_private_auth_file_poetry_reads(run, config_dir):
    result = run(repository="internal", username="deploy", password=PASSWORD)
    assert result["changed"] is True
    assert auth(config_dir) == {"http-basic": {"internal": {"username": "deploy", "password": PASSWORD}}}
    assert mode(config_dir / "auth.toml") == 0o600
    assert mode(config_dir) == 0o700
    assert result["path"] == str(config_dir / "auth.toml")
    assert result["stored"] == {"http-basic": {"username": "deploy", "password": "********"}}
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"] == {"http-basic.username": "deploy", "http-basic.password": "******** (changed)"}


def test_second_run_changes_nothing(run):
    run(repository="internal", username="deploy", password=PASSWORD)
    result = run(repository="internal", username="deploy", password=PASSWORD)
    assert result["changed"] is False
    assert result["diff"]["before"] == result["diff"]["after"]


def test_check_mode_predicts_and_writes_nothing(run, config_dir):
    result = run(check_mode=True, repository="internal", username="deploy", password=PASSWORD)
    assert result["changed"] is True
    assert not config_dir.exists()


def test_changed_password_shows_that_it_changed_not_its_value(run, config_dir):
    run(repository="internal", username="deploy", password=PASSWORD)
    result = run(repository="internal", username="deploy", password=NEW_PASSWORD)
    assert result["changed"] is True
    assert result["diff"]["before"] == {"http-basic.username": "deploy", "http-basic.password": "********"}
    assert result["diff"]["after"] == {"http-basic.username": "deploy", "http-basic.password": "******** (changed)"}
    assert auth(config_dir)["http-basic"]["internal"]["password"] == NEW_PASSWORD


def test_check_mode_on_changed_password_leaves_file_alone(run, config_dir):
    run(repository="internal", username="deploy", password=PASSWORD)
    before = (config_dir / "auth.toml").read_text()
    assert run(check_mode=True, repository="internal", username="deploy", password=NEW_PASSWORD)["changed"] is True
    assert (config_dir / "auth.toml").read_text() == before


def test_on_create_keeps_stored_secret(run, config_dir):
    run(repository="internal", username="deploy", password=PASSWORD)
    result = run(repository="internal", username="deploy", password=NEW_PASSWORD, update_secret="on_create")
    assert result["changed"] is False
    assert auth(config_dir)["http-basic"]["internal"]["password"] == PASSWORD


def test_on_create_still_manages_username(run, config_dir):
    run(repository="internal", username="deploy", password=PASSWORD)
    result = run(repository="internal", username="ci", password=NEW_PASSWORD, update_secret="on_create")
    assert result["changed"] is True
    assert auth(config_dir)["http-basic"]["internal"] == {"username": "ci", "password": PASSWORD}


def test_on_create_stores_secret_when_none_is_stored(run, config_dir):
    result = run(repository="internal", username="deploy", password=PASSWORD, update_secret="on_create")
    assert result["changed"] is True
    assert auth(config_dir)["http-basic"]["internal"]["password"] == PASSWORD


def test_token(run, config_dir):
    result = run(repository="internal", token=TOKEN)
    assert result["changed"] is True
    assert auth(config_dir) == {"pypi-token": {"internal": TOKEN}}
    assert result["stored"] == {"pypi-token": "********"}
    assert result["diff"]["after"] == {"pypi-token": "******** (changed)"}
    assert run(repository="internal", token=TOKEN)["changed"] is False


def test_certificates(run, config_dir, tmp_path):
    ca = tmp_path / "ca.pem"
    client = tmp_path / "client.pem"
    ca.write_text("ca")
    client.write_text("client")
    result = run(repository="internal", ca_cert=str(ca), client_cert=str(client))
    assert result["changed"] is True
    assert auth(config_dir) == {"certificates": {"internal": {"cert": str(ca), "client-cert": str(client)}}}
    assert run(repository="internal", ca_cert=str(ca), client_cert=str(client))["changed"] is False


def test_validate_certs_false_and_back(run, config_dir):
    run(repository="internal", validate_certs=False)
    assert auth(config_dir) == {"certificates": {"internal": {"cert": False}}}
    assert run(repository="internal", validate_certs=False)["changed"] is False
    result = run(repository="internal", validate_certs=True)
    assert result["changed"] is True
    assert auth(config_dir) == {}
    assert run(repository="internal", validate_certs=True)["changed"] is False


def test_ca_cert_replaces_disabled_verification(run, config_dir, tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("ca")
    run(repository="internal", validate_certs=False)
    run(repository="internal", ca_cert=str(ca), validate_certs=True)
    assert auth(config_dir) == {"certificates": {"internal": {"cert": str(ca)}}}


@pytest.mark.parametrize("args, message", [
    ({}, "Nothing to store for repository internal: give username and password, token, ca_cert, "
         "validate_certs or client_cert"),
    ({"ca_cert": "/etc/ssl/ca.pem", "validate_certs": False},
     "ca_cert and validate_certs=false contradict each other: give one of them"),
    ({"ca_cert": "certs/ca.pem"},
     "ca_cert must be an absolute path (Poetry reads it from any directory); got certs/ca.pem"),
    ({"client_cert": "/nonexistent/client.pem"}, "client_cert /nonexistent/client.pem does not exist on the host"),
])
def test_refused_options(run, config_dir, args, message):
    result = run(repository="internal", **args)
    assert result["failed"] is True
    assert result["msg"] == message
    assert not config_dir.exists()


def test_username_needs_password(run):
    result = run(repository="internal", username="deploy")
    assert result["failed"] is True
    assert "parameters are required together: username, password" in result["msg"]


def test_missing_certificate_only_warns_in_check_mode(run):
    result = run(check_mode=True, repository="internal", client_cert="/nonexistent/client.pem")
    assert result["changed"] is True
    # ansible-core 2.19 reports warnings as structured events.
    assert ("client_cert /nonexistent/client.pem does not exist on the host; in check mode, an earlier task may "
            "not have created it yet") in json.dumps(result["warnings"])


def test_keeps_other_settings_and_comments(run, config_dir):
    config_dir.mkdir(mode=0o700)
    (config_dir / "auth.toml").write_text(
        "# managed by hand too\n[http-basic.other]\nusername = \"u\"\npassword = \"p\"\n\n"
        "[certificates.internal]\nclient-cert = \"/etc/client.pem\"\n")
    os.chmod(str(config_dir / "auth.toml"), 0o600)
    run(repository="internal", username="deploy", password=PASSWORD)
    text = (config_dir / "auth.toml").read_text()
    assert text.startswith("# managed by hand too\n")
    assert auth(config_dir) == {
        "http-basic": {"other": {"username": "u", "password": "p"},
                       "internal": {"username": "deploy", "password": PASSWORD}},
        "certificates": {"internal": {"client-cert": "/etc/client.pem"}},
    }


def test_absent_removes_everything_of_the_repository_only(run, config_dir, tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("ca")
    run(repository="internal", username="deploy", password=PASSWORD, token=TOKEN, ca_cert=str(ca))
    run(repository="other", username="u", password=NEW_PASSWORD)
    result = run(repository="internal", state="absent")
    assert result["changed"] is True
    assert result["stored"] == {}
    assert result["diff"]["before"] == {"http-basic.username": "deploy", "http-basic.password": "********",
                                        "pypi-token": "********", "certificates.cert": str(ca)}
    assert auth(config_dir) == {"http-basic": {"other": {"username": "u", "password": NEW_PASSWORD}}}
    assert run(repository="internal", state="absent")["changed"] is False


def test_absent_without_file(run, config_dir):
    assert run(repository="internal", state="absent")["changed"] is False
    assert not config_dir.exists()


def test_readable_file_is_made_private(run, config_dir):
    """An auth.toml created by hand or copied may be readable by others; one holding secrets must not stay so."""
    run(repository="internal", username="deploy", password=PASSWORD)
    os.chmod(str(config_dir / "auth.toml"), 0o644)
    assert run(check_mode=True, repository="internal", username="deploy", password=PASSWORD)["changed"] is True
    assert mode(config_dir / "auth.toml") == 0o644
    result = run(repository="internal", username="deploy", password=PASSWORD)
    assert result["changed"] is True
    assert result["diff"]["before"]["mode"] == "0644"
    assert result["diff"]["after"]["mode"] == "0600"
    assert mode(config_dir / "auth.toml") == 0o600


def test_config_dir_from_environment(run, monkeypatch, tmp_path):
    monkeypatch.setenv("POETRY_CONFIG_DIR", str(tmp_path / "from-env"))
    result = run(repository="internal", username="deploy", password=PASSWORD, config_dir=None)
    assert result["path"] == str(tmp_path / "from-env" / "auth.toml")


def test_broken_file_fails_clearly(run, config_dir):
    config_dir.mkdir()
    (config_dir / "auth.toml").write_text("[http-basic\n")
    result = run(repository="internal", username="deploy", password=PASSWORD)
    assert result["failed"] is True
    assert result["msg"].startswith("Cannot parse %s" % (config_dir / "auth.toml"))
