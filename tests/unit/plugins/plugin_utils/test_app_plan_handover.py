# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deploy planner with a service of handover proxy: its units, and how a restart hands its
traffic to a candidate and back (plugin_utils/_app_handover.py)."""

import pytest

from ansible_collections.lockstep.poetry.plugins.plugin_utils import _app_plan
from ansible_collections.lockstep.poetry.tests.unit.plugins.plugin_utils.test_app_plan import (
    ENV, SCRATCH, deployed_host, key, managed_file, plan, release, settings)

# web (Gunicorn) is checked where the health check points and restarts behind its socket; api
# (Uvicorn) hands its traffic over through the proxy.
SERVICES = {
    "web": {"command": "gunicorn shopfront:app", "listen": "127.0.0.1:8000"},
    "api": {"command": "uvicorn --fd 3 shopfront:asgi", "listen": "127.0.0.1:8001", "handover": "proxy"},
}
UNITS = ["shopfront-api-candidate.service", "shopfront-api-candidate.socket", "shopfront-api-main.socket",
         "shopfront-api-proxy.service", "shopfront-api.service", "shopfront-api.socket",
         "shopfront-web-candidate.service", "shopfront-web-candidate.socket", "shopfront-web.service",
         "shopfront-web.socket"]
# What the host runs: the units systemd keeps up, and the proxy that api's socket started.
RUNNING = ["shopfront-api-main.socket", "shopfront-api-proxy.service", "shopfront-api.service",
           "shopfront-api.socket", "shopfront-web.service", "shopfront-web.socket"]


def wanted(services=None, **changes):
    return settings(command="", services=SERVICES if services is None else services, **changes)


def units_of(services=None):
    found = wanted(services)
    return _app_plan.unit_files(found, _app_plan.layout_of(found))


def proxied_host(services=None, running=None, **changes):
    """A host that runs release r1 with the services (SERVICES), their units as they should be."""
    units = units_of(services)
    running = RUNNING if running is None else running
    host = deployed_host(units=dict((name, {"active": name in running, "enabled": name in running}) for name in units))
    host["files"].update(units={name: managed_file(content, "root", "root", "0644") for name, content in units.items()},
                         unit_manifest=sorted(units))
    host.update(changes)
    return host


def proxied_plan(host, source_release, services=None, **changes):
    return plan(host, source_release, **dict({"command": "", "services": SERVICES if services is None else services},
                                             **changes))


def test_public_socket_starts_the_proxy_and_the_service_has_a_socket_of_its_own():
    units = units_of()
    assert sorted(units) == UNITS
    assert ("ListenStream=127.0.0.1:8001\nService=shopfront-api-proxy.service\n" in units["shopfront-api.socket"])
    assert "WantedBy=sockets.target\n" in units["shopfront-api.socket"]
    proxy = units["shopfront-api-proxy.service"]
    assert "Requires=shopfront-api.socket\nAfter=shopfront-api.socket\n" in proxy
    assert "Wants=shopfront-api-main.socket\nAfter=shopfront-api-main.socket\n" in proxy
    assert "User=shopfront\nGroup=shopfront\n" in proxy
    # The link is made once after a boot, never replaced by the proxy.
    assert "ExecStartPre=-+/bin/ln -s main.sock /run/shopfront-api/live.sock\n" in proxy
    assert ("ExecStart=/lib/systemd/systemd-socket-proxyd --connections-max=256 /run/shopfront-api/live.sock\n"
            in proxy)
    assert "[Install]" not in proxy
    assert ("ListenStream=/run/shopfront-api/main.sock\nSocketUser=shopfront\nSocketGroup=shopfront\nSocketMode=0600\n"
            "Service=shopfront-api.service\n" in units["shopfront-api-main.socket"])
    assert "WantedBy=sockets.target\n" in units["shopfront-api-main.socket"]
    api = units["shopfront-api.service"]
    assert "Requires=shopfront-api-main.socket\nAfter=shopfront-api-main.socket\n" in api
    assert "Sockets=shopfront-api-main.socket\n" in api
    assert "ExecStart=/srv/shopfront/current/.venv/bin/uvicorn --fd 3 shopfront:asgi\n" in api
    # The candidate: the proxy (the application's user) forwards to its socket.
    assert ("ListenStream=/run/shopfront-api-candidate.sock\nSocketUser=shopfront\nSocketGroup=shopfront\n"
            "SocketMode=0600\n" in units["shopfront-api-candidate.socket"])
    assert "Requires=shopfront-api-candidate.socket\n" in units["shopfront-api-candidate.service"]
    assert "Sockets=" not in units["shopfront-api-candidate.service"]
    # web, with the default handover, is as before.
    assert "Service=" not in units["shopfront-web.socket"] and "Sockets=" not in units["shopfront-web.service"]
    assert "SocketUser=" not in units["shopfront-web-candidate.socket"]


HANDOVER = {
    "candidates": [{"unit": "shopfront-api-candidate.service", "socket": "/run/shopfront-api-candidate.sock",
                    "units": ["shopfront-api-candidate.service", "shopfront-api-candidate.socket"]}],
    "units": ["shopfront-api-candidate.service", "shopfront-api-candidate.socket"],
    "mains": [{"unit": "shopfront-api.service", "socket": "/run/shopfront-api/main.sock"}],
    "to_candidates": {"links": [["/run/shopfront-api/live.sock", "/run/shopfront-api-candidate.sock"]], "touch": None},
    "to_mains": {"links": [["/run/shopfront-api/live.sock", "main.sock"]], "touch": None},
    # A rollback hands over to the release running now, r1.
    "rollback_links": {"links": [["/srv/shopfront/candidate", "releases/r1"],
                                 ["/srv/shopfront/candidate.venv", "venvs/" + key()]], "touch": None},
    "unlink": {"links": [["/srv/shopfront/candidate", None], ["/srv/shopfront/candidate.venv", None]], "touch": None},
    "drain": 2,
}


def test_switch_hands_the_traffic_to_a_candidate_and_back():
    found = proxied_plan(proxied_host(), release("r2"))
    precheck = found["precheck"]
    # Both candidates start and are checked before anything takes traffic; api's takes it.
    assert precheck["service"] == "shopfront-api, shopfront-web"
    assert precheck["candidates"] == HANDOVER["candidates"] + [
        {"unit": "shopfront-web-candidate.service", "socket": "/run/shopfront-web-candidate.sock",
         "units": ["shopfront-web-candidate.service", "shopfront-web-candidate.socket"]}]
    assert precheck["units"] == HANDOVER["units"] + ["shopfront-web-candidate.service", "shopfront-web-candidate.socket"]
    # Once api's candidate took the traffic, web's stops: it was only checked.
    assert precheck["checked_only"] == ["shopfront-web-candidate.service", "shopfront-web-candidate.socket"]
    assert precheck["link"]["links"][0] == ["/srv/shopfront/candidate", "releases/r2"]
    assert precheck["handover"] == HANDOVER
    assert found["steps"]["precheck"] and found["steps"]["hand_over"]
    # The service itself restarts (while its candidate serves); the proxy and sockets stay up.
    assert found["service"]["units"] == [
        {"unit": "shopfront-api.service", "state": "restarted", "enabled": True},
        {"unit": "shopfront-web.service", "state": "restarted", "enabled": True},
    ]


def test_rollback_on_demand_hands_over_the_same_way():
    host = proxied_host(current_release="r3", releases={"r1": {"mtime": 1000.0, "venv": key()},
                                                        "r3": {"mtime": 3000.0, "venv": key()}})
    found = proxied_plan(host, None, rollback_to="previous", source_type=None)
    assert found["release"]["id"] == "r1"
    assert found["precheck"]["handover"]["candidates"] == HANDOVER["candidates"]
    assert found["precheck"]["handover"]["rollback_links"]["links"][0] == ["/srv/shopfront/candidate", "releases/r3"]


def test_restart_without_a_switch_is_handed_over_too():
    found = proxied_plan(proxied_host(), release("r1"), env_content=ENV + "A=1\n")
    assert found["restart"] and not found["links"]
    # Only the proxied service runs a candidate, of the release that runs.
    assert found["precheck"]["candidates"] == HANDOVER["candidates"]
    assert found["precheck"]["checked_only"] == []
    assert found["precheck"]["link"]["links"][0] == ["/srv/shopfront/candidate", "releases/r1"]
    assert found["precheck"]["handover"] == HANDOVER


def test_nothing_to_hand_over_in_check_mode_or_before_the_service_runs():
    found = proxied_plan(proxied_host(scratch=SCRATCH), release("r2"), check_mode=True)
    assert found["precheck"] is None and not found["steps"]["precheck"] and not found["steps"]["hand_over"]
    # Its first start: the sockets and the service start, nothing runs to hand over from.
    running = [name for name in RUNNING if not name.startswith("shopfront-api")]
    found = proxied_plan(proxied_host(running=running), release("r2"))
    assert found["precheck"]["handover"] is None
    assert found["steps"]["precheck"] and not found["steps"]["hand_over"]
    assert found["service"]["units"][:3] == [
        {"unit": "shopfront-api.socket", "state": "started", "enabled": True},
        {"unit": "shopfront-api-main.socket", "state": "started", "enabled": True},
        {"unit": "shopfront-api.service", "state": "restarted", "enabled": True},
    ]


def test_first_deploy_that_fails_stops_the_proxy_and_every_socket():
    host = proxied_host(current_release="", releases={}, running=[])
    assert proxied_plan(host, release("r1"))["service"]["rollback"][:4] == [
        {"unit": "shopfront-api.service", "state": "stopped"},
        {"unit": "shopfront-api.socket", "state": "stopped"},
        {"unit": "shopfront-api-proxy.service", "state": "stopped"},
        {"unit": "shopfront-api-main.socket", "state": "stopped"},
    ]


def test_handover_proxy_on_a_running_service_restarts_its_public_socket_once():
    before = dict(SERVICES, api=dict(SERVICES["api"], handover="restart"))
    running = [name for name in RUNNING if name not in ("shopfront-api-main.socket", "shopfront-api-proxy.service")]
    host = proxied_host(services=before, running=running)
    found = proxied_plan(host, release("r1"))
    assert found["files_to_write"] == ["shopfront-api-candidate.service", "shopfront-api-candidate.socket",
                                       "shopfront-api-main.socket", "shopfront-api-proxy.service",
                                       "shopfront-api.service", "shopfront-api.socket"]
    # Nothing switches, and the service restarts with its public socket: no candidate.
    assert found["precheck"] is None
    assert found["service"]["units"] == [
        {"unit": "shopfront-api.service", "state": "stopped", "enabled": True},
        {"unit": "shopfront-api.socket", "state": "restarted", "enabled": True},
        {"unit": "shopfront-api-main.socket", "state": "started", "enabled": True},
        {"unit": "shopfront-api.service", "state": "restarted", "enabled": True},
        {"unit": "shopfront-web.service", "state": "restarted", "enabled": True},
    ]


def test_handover_restart_again_stops_the_proxy_and_retires_its_units():
    after = dict(SERVICES, api=dict(SERVICES["api"], handover="restart"))
    found = proxied_plan(proxied_host(), release("r1"), services=after)
    # The proxy holds the public socket and the service the old one of its own: both stop
    # before the public socket restarts, to start the service itself.
    assert found["service"]["units"][:5] == [
        {"unit": "shopfront-api.service", "state": "stopped", "enabled": True},
        {"unit": "shopfront-api-proxy.service", "state": "stopped"},
        {"unit": "shopfront-api-main.socket", "state": "stopped"},
        {"unit": "shopfront-api.socket", "state": "restarted", "enabled": True},
        {"unit": "shopfront-api.service", "state": "restarted", "enabled": True},
    ]
    assert found["service"]["retire"]["units"] == ["shopfront-api-candidate.service", "shopfront-api-candidate.socket",
                                                   "shopfront-api-main.socket", "shopfront-api-proxy.service"]


def test_changed_proxy_unit_applies_at_its_next_start():
    host = proxied_host()
    host["files"]["units"]["shopfront-api-proxy.service"]["sha1"] = "0" * 40
    found = proxied_plan(host, release("r1"))
    assert found["files_to_write"] == ["shopfront-api-proxy.service"]
    assert {"unit": "shopfront-api-proxy.service", "state": "stopped"} in found["service"]["units"]
    # Its service restarts (a unit changed), handed over as ever.
    assert found["precheck"]["handover"]["candidates"] == HANDOVER["candidates"]


@pytest.mark.parametrize("changes, message", [
    ({"services": {"api": {"command": "x", "listen": "8001", "handover": "swap"}}},
     "poetry_app_services.api: handover 'swap' is unknown (known: restart, proxy)."),
    ({"services": {"api": {"command": "x", "handover": "proxy"}}},
     "poetry_app_services.api: handover proxy hands over the traffic of a service that listens"),
    ({"services": {"api": {"command": "x", "schedule": "hourly", "handover": "proxy"}}},
     "poetry_app_services.api: handover proxy hands over the traffic of a service that listens"),
    ({"services": {"api": {"command": "x", "listen": "8001", "handover": "proxy"}}, "healthcheck_url": ""},
     "poetry_app_services.api: handover proxy checks each instance on its own socket"),
    ({"services": {"api": {"command": "x", "listen": "8001", "handover": "proxy"}, "api-proxy": {"command": "y"}}},
     "poetry_app_services.api: handover proxy adds the unit shopfront-api-proxy.service, which another service's"),
], ids=["unknown-handover", "proxy-without-listen", "proxy-on-a-timer", "proxy-without-a-health-check-url",
        "proxy-unit-taken"])
def test_handover_problems(changes, message):
    problems = _app_plan.input_problems(settings(**dict({"command": ""}, **changes)))
    assert any(problem.startswith(message) for problem in problems), problems


def test_default_handover_is_valid_everywhere():
    assert _app_plan.input_problems(wanted(dict(SERVICES, web=dict(SERVICES["web"], handover="restart")))) == []


# What a run killed during a handover leaves: api's proxy forwarding to its candidate.
STRANDED = {"/run/shopfront-api/live.sock": "/run/shopfront-api-candidate.sock"}


def test_inspection_reads_the_links_of_the_proxies_only():
    assert _app_plan.live_links_to_inspect(wanted()) == ["/run/shopfront-api/live.sock"]
    assert _app_plan.live_links_to_inspect(wanted(service_manager="none")) == []


@pytest.mark.parametrize("live_links", [
    {},
    {"/run/shopfront-api/live.sock": None},
    {"/run/shopfront-api/live.sock": "main.sock"},
], ids=["not-inspected", "not-made-yet", "at-the-service"])
def test_nothing_to_recover_while_the_proxy_forwards_to_the_service(live_links):
    found = proxied_plan(proxied_host(live_links=live_links), release("r1"))
    assert found["recover"] is None and found["idle"] and not found["prepare"]


def test_killed_handover_is_handed_back_first_even_on_a_run_with_nothing_else_to_do():
    found = proxied_plan(proxied_host(live_links=STRANDED), release("r1"))
    # Nothing else differs: the deploy itself is idle, the way back runs anyway (main.yml).
    assert found["idle"] and found["prepare"] and found["steps"]["recover"]
    assert found["recover"] == {
        # Started if the run was killed while it restarted, then checked on its own socket.
        "start": ["shopfront-api.service"],
        "mains": HANDOVER["mains"],
        "to_mains": HANDOVER["to_mains"],
        "units": HANDOVER["units"],
        "unlink": HANDOVER["unlink"],
        "drain": 2,
        "said": "A run that was killed left the traffic of shopfront-api.service with its candidate "
                "(shopfront-api-candidate.service), which serves still",
    }


def test_killed_handover_is_handed_back_before_the_deploy_goes_on():
    # Killed between the switch and the check: r2 unconfirmed, the way back comes first, then the
    # deploy of r2 again, handed over as ever.
    host = proxied_host(live_links=STRANDED, current_release="r2",
                        releases={"r1": {"mtime": 1000.0, "venv": key()}, "r2": {"mtime": 2000.0, "venv": key()}},
                        pending_switch={"from": "r1", "to": "r2", "token": "t"}, lock={"replaced": {"token": "t"}})
    found = proxied_plan(host, release("r2"))
    assert found["recover"]["start"] == ["shopfront-api.service"]
    assert found["current_release"] == "r1" and found["release"]["switch"]
    assert found["precheck"]["handover"]["candidates"] == HANDOVER["candidates"]


def test_killed_handover_of_two_services_names_both():
    services = dict(SERVICES, web=dict(SERVICES["web"], handover="proxy"))
    stranded = dict(STRANDED, **{"/run/shopfront-web/live.sock": "/run/shopfront-web-candidate.sock"})
    found = proxied_plan(proxied_host(services, live_links=stranded), release("r1"), services=services)
    assert found["recover"]["start"] == ["shopfront-api.service", "shopfront-web.service"]
    assert found["recover"]["said"] == (
        "A run that was killed left the traffic of shopfront-api.service, shopfront-web.service with their "
        "candidates (shopfront-api-candidate.service, shopfront-web-candidate.service), which serve still")


def test_no_recovery_for_a_service_that_restarts_behind_its_socket():
    services = dict(SERVICES, api=dict(SERVICES["api"], handover="restart"))
    assert proxied_plan(proxied_host(live_links=STRANDED), release("r1"), services=services)["recover"] is None


def test_one_service_shorthand_hands_over_too():
    shorthand = {"command": "uvicorn --fd 3 shopfront:asgi", "listen": "127.0.0.1:8000", "handover": "proxy"}
    assert _app_plan.input_problems(settings(**shorthand)) == []
    units = _app_plan.unit_files(settings(**shorthand), _app_plan.layout_of(settings(**shorthand)))
    assert sorted(units) == ["shopfront-candidate.service", "shopfront-candidate.socket", "shopfront-main.socket",
                             "shopfront-proxy.service", "shopfront.service", "shopfront.socket"]
    assert _app_plan.live_links_to_inspect(settings(**shorthand)) == ["/run/shopfront/live.sock"]
    host = deployed_host(live_links={"/run/shopfront/live.sock": "/run/shopfront-candidate.sock"})
    host["units"] = dict((name, {"active": True, "enabled": True}) for name in units if "candidate" not in name)
    host["files"].update(units={name: managed_file(content, "root", "root", "0644") for name, content in units.items()},
                         unit_manifest=sorted(units))
    found = plan(host, release("r2"), **shorthand)
    assert found["recover"]["start"] == ["shopfront.service"]
    assert found["precheck"]["handover"]["candidates"] == [
        {"unit": "shopfront-candidate.service", "socket": "/run/shopfront-candidate.sock",
         "units": ["shopfront-candidate.service", "shopfront-candidate.socket"]}]
    assert found["precheck"]["handover"]["to_mains"]["links"] == [["/run/shopfront/live.sock", "main.sock"]]


@pytest.mark.parametrize("changes, message", [
    ({"handover": "swap", "listen": "8000"}, "poetry_app_handover: handover 'swap' is unknown (known: restart, proxy)."),
    ({"handover": "proxy"}, "poetry_app_handover: handover proxy hands over the traffic of a service that listens"),
    ({"handover": "proxy", "listen": "8000", "healthcheck_url": ""},
     "poetry_app_handover: handover proxy checks each instance on its own socket"),
    ({"handover": "proxy", "command": "", "services": SERVICES},
     "poetry_app_handover goes with poetry_app_command: in poetry_app_services, give each service its own handover."),
], ids=["unknown", "without-listen", "without-a-health-check-url", "with-services"])
def test_shorthand_handover_problems(changes, message):
    problems = _app_plan.input_problems(settings(**changes))
    assert any(problem.startswith(message) for problem in problems), problems


def test_messages_name_the_services_not_the_units_beside_them():
    # A rollback's message named storefront-api-candidate and storefront-api-proxy among them.
    found = proxied_plan(proxied_host(), release("r2"))
    assert found["service_units"] == ["shopfront-api", "shopfront-web"]
    assert plan(deployed_host(), release("r2"))["service_units"] == ["shopfront"]
    assert plan(deployed_host(), release("r2"), service_manager="none")["service_units"] == []
