"""Header and channel-variable templates copied from the real FreeSWITCH 1.11 captures.

The middleware reads a handful of headers, but other consumers (the ESL parser's
throughput, the store writer, a doctor command) see whole events, so simulated
events carry the same headers and roughly the same ~4 KB of ``variable_*`` as the
real ones. Each leg kind (a SIP caller on the ``external`` profile, a directory
user's phone on ``internal``, a gateway leg, the two loopback legs) gets the variables
the real channel acquires at each phase of its life, in the same order. Templates use
``str.format`` fields filled from a per-leg context (see ``LegContext`` in the shell).

``CALLING`` maps an event to its ``Event-Calling-File/Function/Line-Number``.
"""

from __future__ import annotations

Template = tuple[tuple[str, str], ...]

CALLING: dict[str, tuple[str, str, str]] = {
    "STATE": ("switch_channel.c", "switch_channel_perform_set_running_state", "2409"),
    "CALLSTATE": ("switch_channel.c", "switch_channel_perform_set_callstate", "302"),
    "CREATE": ("switch_core_state_machine.c", "switch_core_session_run", "626"),
    "ORIGINATE": ("switch_core_state_machine.c", "switch_core_session_run", "632"),
    "OUTGOING": ("switch_core_session.c", "switch_core_session_outgoing_channel", "768"),
    "UUID": ("switch_core_session.c", "switch_core_session_set_uuid", "2056"),
    "EXECUTE": ("switch_core_session.c", "switch_core_session_exec", "2949"),
    "EXECUTE_COMPLETE": ("switch_core_session.c", "switch_core_session_exec", "2972"),
    "UUID_BRIDGE_EXECUTE": ("switch_ivr_bridge.c", "uuid_bridge_on_soft_execute", "1236"),
    "ANSWER": ("switch_channel.c", "switch_channel_perform_mark_answered", "3848"),
    "PROGRESS": ("switch_channel.c", "switch_channel_perform_mark_ring_ready_value", "3507"),
    "PROGRESS_MEDIA": ("switch_channel.c", "switch_channel_perform_mark_pre_answered", "3562"),
    "PARK": ("switch_ivr.c", "switch_ivr_park", "1002"),
    "UNPARK": ("switch_ivr.c", "switch_ivr_park", "1213"),
    "BRIDGE": ("switch_ivr_bridge.c", "switch_ivr_multi_threaded_bridge", "1689"),
    "UNBRIDGE": ("switch_ivr_bridge.c", "switch_ivr_multi_threaded_bridge", "1879"),
    "HANGUP": ("switch_channel.c", "switch_channel_perform_hangup", "3447"),
    "HANGUP_COMPLETE": ("switch_core_state_machine.c", "switch_core_session_reporting_state", "943"),
    "DESTROY": ("switch_core_session.c", "switch_core_session_perform_destroy", "1588"),
    "READ_CODEC": ("switch_core_codec.c", "switch_core_session_set_real_read_codec", "189"),
    "WRITE_CODEC": ("switch_core_codec.c", "switch_core_session_set_write_codec", "471"),
    "TEMP_READ_CODEC": ("switch_core_codec.c", "switch_core_session_set_read_codec", "300"),
    "FLIP_CID": ("switch_channel.c", "switch_channel_flip_cid", "3279"),
    "SOFIA_UPDATE": ("mod_sofia.c", "sofia_receive_message", "2133"),
    "PRESENCE": ("switch_channel.c", "switch_channel_perform_presence", "806"),
    "PLAYBACK_START": ("switch_ivr_play_say.c", "switch_ivr_play_file", "1649"),
    "PLAYBACK_STOP": ("switch_ivr_play_say.c", "switch_ivr_play_file", "2023"),
    "PRIVATE_COMMAND": ("switch_ivr.c", "switch_ivr_parse_next_event", "804"),
    "RECORD_START": ("switch_ivr_async.c", "record_callback", "1482"),
    "RECORD_STOP": ("switch_ivr_async.c", "send_record_stop_event", "1241"),
    "RECORD_FILE_START": ("switch_ivr_play_say.c", "switch_ivr_record_file", "627"),
    "RECORD_FILE_STOP": ("switch_ivr_play_say.c", "switch_ivr_record_file", "1015"),
    "BUG_START": ("switch_core_media_bug.c", "switch_core_media_bug_add", "1014"),
    "BUG_STOP": ("switch_core_media_bug.c", "switch_core_media_bug_destroy", "84"),
    "DTMF": ("switch_channel.c", "switch_channel_dequeue_dtmf", "678"),
    "API": ("switch_loadable_module.c", "switch_api_execute", "2954"),
    "BACKGROUND_JOB": ("mod_event_socket.c", "api_exec", "1569"),
    "HEARTBEAT": ("switch_core.c", "send_heartbeat", "95"),
    "RE_SCHEDULE": ("switch_scheduler.c", "switch_scheduler_execute", "73"),
    "DEL_SCHEDULE_DONE": ("switch_scheduler.c", "switch_scheduler_execute", "81"),
    "ADD_SCHEDULE": ("switch_scheduler.c", "switch_scheduler_add_task_ex", "232"),
    "DEL_SCHEDULE_ID": ("switch_scheduler.c", "switch_scheduler_del_task_id", "276"),
    "DEL_SCHEDULE_GROUP": ("switch_scheduler.c", "switch_scheduler_del_task_group", "312"),
    "VM_MAINTENANCE": ("mod_voicemail.c", "deliver_vm", "3552"),
    "CHANNEL_DATA": ("mod_commands.c", "uuid_dump_function", "6495"),
    "AVMD": ("mod_avmd.c", "avmd_fire_event", "1104"),
    "HOLD": ("switch_channel.c", "switch_channel_perform_mark_hold", "1287"),
}

CODEC_STRING = "OPUS,G722,PCMU,PCMA,H264,VP8"

_REMOTE_SDP = (
    "v=0\r\no={sdp_user} 53655765 2353687637 IN IP4 {remote_ip}\r\ns=-\r\n"
    "c=IN IP4 {remote_ip}\r\nt=0 0\r\nm=audio {remote_media_port} RTP/AVP 0 101\r\n"
    "a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n"
)
_LOCAL_SDP_ANSWER = (
    "v=0\r\no=FreeSWITCH {sdp_session} {sdp_version} IN IP4 {local_ip}\r\ns=FreeSWITCH\r\n"
    "c=IN IP4 {local_ip}\r\nt=0 0\r\nm=audio {local_media_port} RTP/AVP 0 101\r\n"
    "a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n"
    "a=ptime:20\r\na=sendrecv\r\n"
)
_LOCAL_SDP_OFFER = (
    "v=0\r\no=FreeSWITCH {sdp_session} {sdp_version} IN IP4 {local_ip}\r\ns=FreeSWITCH\r\n"
    "c=IN IP4 {local_ip}\r\nt=0 0\r\nm=audio {local_media_port} RTP/AVP 9 0 8 101\r\n"
    "a=rtpmap:9 G722/8000\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20\r\na=sendrecv\r\n"
)

# A SIP caller arriving on the external profile (captures a, b, d, e, f, g).
INBOUND_CREATE: Template = (
    ("direction", "inbound"),
    ("uuid", "{uuid}"),
    ("call_uuid", "{uuid}"),
    ("session_id", "{session_id}"),
    ("sip_from_user", "{cid_num}"),
    ("sip_from_port", "{remote_port}"),
    ("sip_from_uri", "{cid_num}@{remote_ip}:{remote_port}"),
    ("sip_from_host", "{remote_ip}"),
    ("video_media_flow", "disabled"),
    ("audio_media_flow", "disabled"),
    ("text_media_flow", "disabled"),
    ("channel_name", "{name}"),
    ("sip_call_id", "{sip_call_id}"),
    ("sip_local_network_addr", "{local_ip}"),
    ("sip_network_ip", "{remote_ip}"),
    ("sip_network_port", "{remote_port}"),
    ("sip_invite_stamp", "{created_us}"),
    ("sip_received_ip", "{remote_ip}"),
    ("sip_received_port", "{remote_port}"),
    ("sip_via_protocol", "udp"),
    ("sip_from_user_stripped", "{cid_num_stripped}"),
    ("sip_from_tag", "{from_tag}"),
    ("sofia_profile_name", "external"),
    ("sofia_profile_url", "sip:mod_sofia@{local_ip}:5080"),
    ("recovery_profile_name", "external"),
    ("sip_full_via", "SIP/2.0/UDP {remote_ip}:{remote_port};branch=z9hG4bK-{call_seq}-1-0"),
    ("sip_from_display", "{cid_name}"),
    ("sip_full_from", '"{cid_name}" <sip:{cid_num}@{remote_ip}:{remote_port}>;tag={from_tag}'),
    ("sip_full_to", "<sip:{destination}@{local_ip}:5080>"),
    ("sip_req_user", "{destination}"),
    ("sip_req_port", "5080"),
    ("sip_req_uri", "{destination}@{local_ip}:5080"),
    ("sip_req_host", "{local_ip}"),
    ("sip_to_user", "{destination}"),
    ("sip_to_port", "5080"),
    ("sip_to_uri", "{destination}@{local_ip}:5080"),
    ("sip_to_host", "{local_ip}"),
    ("sip_contact_user", "{cid_num}"),
    ("sip_contact_port", "{remote_port}"),
    ("sip_contact_uri", "{cid_num}@{remote_ip}:{remote_port}"),
    ("sip_contact_host", "{remote_ip}"),
    ("rtp_use_codec_string", CODEC_STRING),
    ("sip_user_agent", "{user_agent}"),
    ("sip_via_host", "{remote_ip}"),
    ("sip_via_port", "{remote_port}"),
    ("max_forwards", "70"),
    ("switch_r_sdp", _REMOTE_SDP),
    ("ep_codec_string", "CORE_PCM_MODULE.PCMU@8000h@20i@64000b"),
    ("endpoint_disposition", "DELAYED NEGOTIATION"),
)

# Media negotiated (pre-answer of an inbound leg, answer of an outbound one).
MEDIA: Template = (
    ("remote_video_media_flow", "inactive"),
    ("remote_text_media_flow", "inactive"),
    ("remote_audio_media_flow", "sendrecv"),
    ("audio_media_flow", "sendrecv"),
    ("rtp_audio_recv_pt", "0"),
    ("rtp_use_codec_name", "PCMU"),
    ("rtp_use_codec_rate", "8000"),
    ("rtp_use_codec_ptime", "20"),
    ("rtp_use_codec_channels", "1"),
    ("rtp_last_audio_codec_string", "PCMU@8000h@20i@1c"),
    ("read_codec", "PCMU"),
    ("original_read_codec", "PCMU"),
    ("read_rate", "8000"),
    ("original_read_rate", "8000"),
    ("write_codec", "PCMU"),
    ("write_rate", "8000"),
    ("dtmf_type", "rfc2833"),
    ("local_media_ip", "{local_ip}"),
    ("local_media_port", "{local_media_port}"),
    ("advertised_media_ip", "{local_ip}"),
    ("rtp_use_timer_name", "soft"),
    ("rtp_use_pt", "0"),
    ("rtp_use_ssrc", "{ssrc}"),
    ("rtp_2833_send_payload", "101"),
    ("rtp_2833_recv_payload", "101"),
    ("remote_media_ip", "{remote_ip}"),
    ("remote_media_port", "{remote_media_port}"),
)

INBOUND_EARLY: Template = (("endpoint_disposition", "EARLY MEDIA"),)
INBOUND_ANSWERED: Template = (
    ("rtp_local_sdp_str", _LOCAL_SDP_ANSWER),
    ("endpoint_disposition", "ANSWER"),
    ("sip_to_tag", "{to_tag}"),
    ("sip_from_tag", "{from_tag}"),
    ("sip_cseq", "1"),
    ("sip_call_id", "{sip_call_id}"),
    ("sip_full_via", "SIP/2.0/UDP {remote_ip}:{remote_port};branch=z9hG4bK-{call_seq}-1-5"),
    ("sip_from_display", "{cid_name}"),
    ("sip_full_from", '"{cid_name}" <sip:{cid_num}@{remote_ip}:{remote_port}>;tag={from_tag}'),
    ("sip_full_to", "<sip:{destination}@{local_ip}:5080>;tag={to_tag}"),
)

# A leg FreeSWITCH places with sofia (user/ phones on internal, gateway customers on
# external). The originate {}/[] variables are inserted after ``sip_destination_url``.
OUTBOUND_CREATE_HEAD: Template = (
    ("direction", "outbound"),
    ("is_outbound", "true"),
    ("uuid", "{uuid}"),
    ("call_uuid", "{uuid}"),
    ("session_id", "{session_id}"),
    ("sip_local_network_addr", "{local_ip}"),
    ("sip_profile_name", "{profile}"),
    ("video_media_flow", "disabled"),
    ("text_media_flow", "disabled"),
    ("channel_name", "{name}"),
    ("sip_destination_url", "sip:{dest_user}@{remote_ip}:{remote_port}"),
)
USER_CREATE_EXTRA: Template = (
    ("dialed_user", "{dest_user}"),
    ("dialed_domain", "{domain}"),
    ("sip_invite_domain", "{domain}"),
    ("presence_id", "{dest_user}@{domain}"),
)
GATEWAY_CREATE_EXTRA: Template = (("sip_gateway_name", "{gateway}"),)
OUTBOUND_CREATE_TAIL: Template = (
    ("originate_early_media", "false"),
    ("originate_endpoint", "sofia"),
    ("rtp_use_codec_string", CODEC_STRING),
    ("local_media_ip", "{local_ip}"),
    ("local_media_port", "{local_media_port}"),
    ("advertised_media_ip", "{local_ip}"),
    ("audio_media_flow", "sendrecv"),
    ("rtp_local_sdp_str", _LOCAL_SDP_OFFER),
    ("sip_outgoing_contact_uri", "<sip:mod_sofia@{local_ip}:{local_port}>"),
    ("sip_req_uri", "{dest_user}@{remote_ip}:{remote_port}"),
    ("sip_to_host", "{remote_ip}:{remote_port}"),
    ("sip_from_host", "{local_ip}"),
    ("sofia_profile_name", "{profile}"),
    ("recovery_profile_name", "{profile}"),
    ("sofia_profile_url", "sip:mod_sofia@{local_ip}:{local_port}"),
)
OUTBOUND_PROGRESS: Template = (
    ("sip_reply_host", "{remote_ip}"),
    ("sip_reply_port", "{remote_port}"),
    ("sip_network_ip", "{remote_ip}"),
    ("sip_network_port", "{remote_port}"),
    ("sip_recover_contact", "<sip:{remote_ip}:{remote_port};transport=UDP>"),
    ("sip_full_via", "SIP/2.0/UDP {local_ip};rport;branch=z9hG4bK{via_branch}"),
    ("sip_recover_via", "SIP/2.0/UDP {local_ip};rport;branch=z9hG4bK{via_branch}"),
    ("sip_full_from", "<sip:{from_user}@{local_ip}>;tag={from_tag}"),
    ("sip_full_to", "<sip:{dest_user}@{remote_ip}:{remote_port}>;tag={to_tag}"),
    ("sip_from_user", "{from_user}"),
    ("sip_from_uri", "{from_user}@{local_ip}"),
    ("sip_from_host", "{local_ip}"),
    ("sip_to_user", "{dest_user}"),
    ("sip_to_port", "{remote_port}"),
    ("sip_to_uri", "{dest_user}@{remote_ip}:{remote_port}"),
    ("sip_to_host", "{remote_ip}"),
    ("sip_contact_params", "transport=UDP"),
    ("sip_contact_user", "{contact_user}"),
    ("sip_contact_port", "{remote_port}"),
    ("sip_contact_uri", "{contact_user}@{remote_ip}:{remote_port}"),
    ("sip_contact_host", "{remote_ip}"),
    ("sip_to_tag", "{to_tag}"),
    ("sip_from_tag", "{from_tag}"),
    ("sip_cseq", "{cseq}"),
    ("sip_call_id", "{sip_call_id}"),
)
OUTBOUND_REMOTE_SDP: Template = (
    ("switch_r_sdp", _REMOTE_SDP),
    ("ep_codec_string", "CORE_PCM_MODULE.PCMU@8000h@20i@64000b"),
)
OUTBOUND_ANSWERED: Template = (("endpoint_disposition", "ANSWER"),)

# The vanilla directory's per-user variables (conf/vanilla/directory/default/10NN.xml).
DIRECTORY_USER: Template = (
    ("record_stereo", "true"),
    ("default_gateway", "example.com"),
    ("default_areacode", "918"),
    ("transfer_fallback_extension", "operator"),
    ("toll_allow", "domestic,international,local"),
    ("accountcode", "{dest_user}"),
    ("user_context", "default"),
    ("effective_caller_id_name", "Extension {dest_user}"),
    ("effective_caller_id_number", "{dest_user}"),
    ("outbound_caller_id_name", "FreeSWITCH"),
    ("outbound_caller_id_number", "0000000000"),
    ("callgroup", "techsupport"),
)

# mod_loopback's two legs (capture i).
LOOPBACK_A_CREATE: Template = (
    ("direction", "outbound"),
    ("is_outbound", "true"),
    ("session_id", "{session_id}"),
    ("read_codec", "L16"),
    ("read_rate", "8000"),
    ("write_codec", "L16"),
    ("write_rate", "8000"),
    ("channel_name", "{name}"),
    ("uuid", "{uuid}"),
    ("call_uuid", "{uuid}"),
)
LOOPBACK_B_CREATE: Template = (
    ("direction", "inbound"),
    ("uuid", "{uuid}"),
    ("call_uuid", "{uuid}"),
    ("session_id", "{session_id}"),
    ("channel_name", "{name}"),
    ("read_codec", "L16"),
    ("read_rate", "8000"),
    ("write_codec", "L16"),
    ("write_rate", "8000"),
)

# Hangup of a SIP leg: who sent BYE decides the disposition.
SIP_HANGUP: Template = (
    ("sip_term_status", "{sip_status}"),
    ("proto_specific_hangup_cause", "sip:{sip_status}"),
    ("sip_term_cause", "{q850}"),
)

# Q.850 values of the hangup causes the simulator produces (switch_channel.c table).
Q850: dict[str, int] = {
    "UNALLOCATED_NUMBER": 1, "NO_ROUTE_DESTINATION": 3, "NORMAL_CLEARING": 16,
    "USER_BUSY": 17, "NO_USER_RESPONSE": 18, "NO_ANSWER": 19, "SUBSCRIBER_ABSENT": 20,
    "CALL_REJECTED": 21, "DESTINATION_OUT_OF_ORDER": 27, "INVALID_NUMBER_FORMAT": 28,
    "NORMAL_UNSPECIFIED": 31, "NORMAL_TEMPORARY_FAILURE": 41, "SWITCH_CONGESTION": 42,
    "CHAN_NOT_IMPLEMENTED": 66, "RECOVERY_ON_TIMER_EXPIRE": 102, "ORIGINATOR_CANCEL": 487,
    "ALLOTTED_TIMEOUT": 602, "USER_NOT_REGISTERED": 606, "LOSE_RACE": 502,
    "MANAGER_REQUEST": 503, "PICKED_OFF": 504, "INVALID_GATEWAY": 608,
    "ATTENDED_TRANSFER": 800,
}

# SIP status a hangup cause maps to on the wire (mod_sofia hangup_cause_to_sip).
SIP_STATUS: dict[str, int] = {
    "NORMAL_CLEARING": 200, "USER_BUSY": 486, "NO_ANSWER": 480, "NO_USER_RESPONSE": 408,
    "CALL_REJECTED": 603, "UNALLOCATED_NUMBER": 404, "NO_ROUTE_DESTINATION": 404,
    "ORIGINATOR_CANCEL": 487, "SUBSCRIBER_ABSENT": 480, "INVALID_NUMBER_FORMAT": 484,
    "NORMAL_TEMPORARY_FAILURE": 503, "SWITCH_CONGESTION": 503,
}


def fill(template: Template, context: dict[str, str]) -> list[tuple[str, str]]:
    """The template's (name, value) pairs with ``{fields}`` from ``context``."""
    return [(name, value.format_map(context)) for name, value in template]
