"""The channel variables the middleware sets on every leg it creates or takes over.

They are the contract between the parts that create legs (routing, outbound,
supervisor actions), the FreeSWITCH dialplan in ``freeswitch-conf/``, the simulator,
and the core that rebuilds calls from events: whoever reads an event finds out which
interaction, agent and queue a leg belongs to from these variables alone (they appear
as ``variable_<name>`` headers). This is also what lets a restarted middleware pick up
calls already in progress from ``show channels``/``uuid_dump``.
"""

from __future__ import annotations

INTERACTION_ID = "cti_interaction_id"   # uuid of the interaction the leg belongs to
ROLE = "cti_role"                       # customer | agent | consult | transfer | supervisor
AGENT_ID = "cti_agent_id"               # numeric agent id for agent/consult/supervisor legs
QUEUE = "cti_queue"                     # queue the interaction is in or was offered from
CAMPAIGN_ID = "cti_campaign_id"         # outbound campaign id
CONTACT_ID = "cti_contact_id"           # outbound contact id
SUPERVISOR_MODE = "cti_supervisor_mode" # listen | whisper | barge | full_barge | intercept
TARGET_UUID = "cti_target_uuid"         # for supervisor legs: the leg being monitored
DTMF_SECRET = "cti_dtmf_secret"         # "true" while the caller keys in a PIN or card number:
                                        # the core masks the DTMF digits of the leg meanwhile

# Set by our dialplan (freeswitch-conf/dialplan/public/cti_inbound.xml) on inbound calls
# before it parks them, so the middleware knows the call is for it.
DID = "cti_did"                         # the dialled number (destination_number)
MANAGED = "cti_managed"                 # "true" on calls the middleware drives

ROLES = ("customer", "agent", "consult", "transfer", "supervisor")
SUPERVISOR_MODES = ("listen", "whisper", "barge", "full_barge", "intercept")
