# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:
    # The attributes the collection's modules share, beside ansible.builtin.action_common_attributes
    # (which describes them). Each module still says how it supports check mode and diff mode; a
    # module's own entry for an attribute given here wins over the fragment's.

    # Every module: it runs on POSIX hosts.
    DOCUMENTATION = r"""
attributes:
  platform:
    platforms: posix
"""

    # A module that changes something: run again with the same arguments, it reports no change.
    IDEMPOTENT = r"""
attributes:
  idempotent:
    description: Run twice with the same arguments, the second run reports no change.
    support: full
"""

    # A module of the action group lockstep.poetry.poetry (module_defaults), with
    # ansible.builtin.action_common_attributes.actiongroups.
    ACTION_GROUP = r"""
attributes:
  action_group:
    support: full
    membership: [lockstep.poetry.poetry]
"""

    # A module run by an action plugin of its own, with ansible.builtin.action_common_attributes.flow.
    ACTION_PLUGIN = r"""
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
"""
