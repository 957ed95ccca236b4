# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deploy lock: who holds it, and whether that run has ended without releasing it."""

import os
import socket
import subprocess
import sys

from ansible_collections.lockstep.poetry.plugins.plugin_utils import _deploy_lock


def ended_process():
    """A pid that no process has any more (a child that exited and was reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_holder_describes_this_run():
    holder = _deploy_lock.new_holder()
    assert holder["pid"] == os.getppid() and holder["controller"] == socket.gethostname()
    assert len(holder["token"]) == 32 and holder["since"].endswith("Z")
    assert holder["pid_started"] == _deploy_lock.process_started(os.getppid())


def test_a_running_holder_has_not_ended():
    holder = dict(_deploy_lock.new_holder(), pid=os.getpid(), pid_started=_deploy_lock.process_started(os.getpid()))
    assert not _deploy_lock.ended(holder)


def test_a_holder_whose_process_is_gone_has_ended():
    holder = dict(_deploy_lock.new_holder(), pid=ended_process())
    assert _deploy_lock.ended(holder)


def test_a_holder_whose_pid_another_process_took_has_ended():
    holder = dict(_deploy_lock.new_holder(), pid=os.getpid(), pid_started=1)
    assert _deploy_lock.ended(holder)


def test_a_holder_on_another_controller_or_unknown_is_taken_as_running():
    holder = dict(_deploy_lock.new_holder(), pid=ended_process())
    assert not _deploy_lock.ended(holder, hostname="another-controller")
    assert not _deploy_lock.ended({})


def test_message_names_the_holder_and_the_way_out():
    lock = {"path": "/srv/.shopfront.deploy-lock",
            "holder": {"token": "t", "user": "deploy", "controller": "ci-1", "pid": 4242, "since": "2026-12-04T03:00:00Z"}}
    assert _deploy_lock.held_message("shopfront", "web-1", lock) == (
        "Another run is deploying shopfront to web-1: deploy on controller ci-1 (ansible-playbook process 4242) since "
        "2026-12-04T03:00:00Z (lock /srv/.shopfront.deploy-lock). This run changed nothing. Run again once it has "
        "ended; if it was killed on another controller, run again with poetry_app_break_lock=true.")
