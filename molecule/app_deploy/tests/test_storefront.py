"""storefront (serve.yml, on the release_cycle host): one release run as several services. The
ones that listen sit behind sockets that systemd holds, every long-running one runs the release
that `current` points to, the job runs on its timer, the release checked before the switch is
not left running, and the retired service is gone. The first verify runs before serve.yml has
deployed it: these tests skip there."""

import json

import pytest

ROOT = "/srv/storefront"
LONG_RUNNING = ("web", "api", "worker")


@pytest.fixture(scope="module", autouse=True)
def deployed(host):
    if not host.file(ROOT + "/current").exists:
        pytest.skip("storefront is deployed by the side effect (serve.yml), not by converge")


def ports(host):
    return dict((name, str(port)) for name, port in host.ansible.get_variables()["storefront_ports"].items())


def test_listening_services_sit_behind_sockets_systemd_holds(host):
    for name in ("web", "api"):
        socket = host.service("storefront-%s.socket" % name)
        assert socket.is_enabled and socket.is_running
        listen = host.check_output("systemctl show --property=Listen --value storefront-%s.socket", name)
        assert listen == "127.0.0.1:%s (Stream)" % ports(host)[name]


def test_long_running_services_run_the_current_release_as_its_user(host):
    current = host.file(ROOT + "/current").linked_to
    for name in LONG_RUNNING:
        service = host.service("storefront-%s" % name)
        assert service.is_enabled and service.is_running
        pid = host.check_output("systemctl show --property=MainPID --value storefront-%s", name)
        # Its own user may look at where it runs.
        assert host.check_output("runuser -u storefront -- readlink /proc/%s/cwd", pid) == current
        assert host.process.get(pid=int(pid)).user == "storefront"


def test_both_servers_answer_from_the_current_release(host):
    pages = [json.loads(host.check_output("curl -fsS http://127.0.0.1:%s/", ports(host)[name])) for name in ("web", "api")]
    assert pages[0]["release"] == pages[1]["release"]
    assert pages[0]["directory"] == pages[1]["directory"] == host.file(ROOT + "/current").linked_to


def test_job_runs_on_its_timer_from_the_current_release(host):
    timer = host.service("storefront-cleanup.timer")
    assert timer.is_enabled and timer.is_running
    assert host.run("systemctl start storefront-cleanup.service").rc == 0
    release = json.loads(host.check_output("curl -fsS http://127.0.0.1:%s/", ports(host)["web"]))["release"]
    assert host.file(ROOT + "/shared/var/uploads/cleanup-" + release).content_string == "ran"


def test_release_checked_before_the_switch_is_not_left_running(host):
    for name in ("web", "api"):
        assert not host.service("storefront-%s-candidate" % name).is_running
        assert not host.service("storefront-%s-candidate.socket" % name).is_running
    assert not host.file(ROOT + "/candidate").exists and not host.file(ROOT + "/candidate.venv").exists


def test_uvicorn_takes_its_traffic_through_the_proxy_from_its_own_socket(host):
    # handover proxy: the public socket's proxy forwards to the link, which points at the
    # service's own socket again once a deploy is over.
    assert host.service("storefront-api-main.socket").is_running
    assert host.file("/run/storefront-api/live.sock").linked_to == "/run/storefront-api/main.sock"
    assert host.check_output("systemctl show --property=Triggers --value storefront-api.socket") == \
        "storefront-api-proxy.service"


def test_retired_service_is_gone(host):
    assert not host.file("/etc/systemd/system/storefront-spare.service").exists
    assert not host.service("storefront-spare").is_running
    recorded = json.loads(host.file(ROOT + "/.lockstep-units.json").content_string)
    assert "storefront-spare.service" not in recorded and "storefront-web.socket" in recorded


def test_shared_file_outlives_releases(host):
    linked = host.file(ROOT + "/current/settings.ini")
    assert linked.is_symlink and linked.linked_to == ROOT + "/shared/settings.ini"
    assert "currency = EUR" in linked.content_string
