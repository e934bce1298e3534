-- The history the core writes: interactions and their legs, the timeline, per-queue
-- and per-agent segments, agent state history, the customer directory, recordings,
-- voicemail and the audit log. Every write from the event path is idempotent: rows
-- carry the id of the domain event (or a natural key) that produced them.

CREATE TABLE customers (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL DEFAULT '',
    company     text NOT NULL DEFAULT '',
    vip         boolean NOT NULL DEFAULT false,
    tags        text[] NOT NULL DEFAULT '{}',
    notes       text NOT NULL DEFAULT '',
    email       text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- A number belongs to at most one customer; numbers are stored in E.164 when possible.
CREATE TABLE customer_numbers (
    number       text PRIMARY KEY,
    customer_id  bigint NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    label        text NOT NULL DEFAULT ''
);
CREATE INDEX customer_numbers_customer ON customer_numbers (customer_id);

-- One customer contact, from the first leg to the end of wrap-up.
CREATE TABLE interactions (
    id               uuid PRIMARY KEY,
    node             text NOT NULL DEFAULT '',
    direction        text NOT NULL CHECK (direction IN ('inbound', 'outbound', 'internal')),
    did              text NOT NULL DEFAULT '',
    caller_number    text NOT NULL DEFAULT '',
    caller_name      text NOT NULL DEFAULT '',
    callee_number    text NOT NULL DEFAULT '',
    customer_id      bigint REFERENCES customers(id) ON DELETE SET NULL,
    campaign_id      bigint,
    contact_id       bigint,
    flow_name        text NOT NULL DEFAULT '',
    flow_version     integer,
    ivr_path         jsonb NOT NULL DEFAULT '[]'::jsonb,
    digits           text NOT NULL DEFAULT '',
    queue_name       text NOT NULL DEFAULT '',
    agent_id         bigint REFERENCES agents(id) ON DELETE SET NULL,
    started_at       timestamptz NOT NULL,
    queue_entered_at timestamptz,
    offered_at       timestamptz,
    answered_at      timestamptz,
    abandoned_at     timestamptz,
    ended_at         timestamptz,
    wrapup_ended_at  timestamptz,
    talk_seconds     double precision NOT NULL DEFAULT 0,
    hold_seconds     double precision NOT NULL DEFAULT 0,
    wrapup_seconds   double precision NOT NULL DEFAULT 0,
    transfers        integer NOT NULL DEFAULT 0,
    outcome          text NOT NULL DEFAULT 'live',
    disposition      text NOT NULL DEFAULT '',
    notes            text NOT NULL DEFAULT '',
    hangup_cause     text NOT NULL DEFAULT '',
    hangup_by        text NOT NULL DEFAULT '',
    vars             jsonb NOT NULL DEFAULT '{}'::jsonb,
    revision         bigint NOT NULL DEFAULT 0,   -- last applied change; older ones are ignored
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX interactions_started ON interactions (started_at);
CREATE INDEX interactions_caller ON interactions (caller_number, started_at DESC);
CREATE INDEX interactions_agent ON interactions (agent_id, started_at DESC);
CREATE INDEX interactions_queue ON interactions (queue_name, started_at);

CREATE TABLE legs (
    uuid            uuid PRIMARY KEY,
    interaction_id  uuid NOT NULL REFERENCES interactions(id) ON DELETE CASCADE,
    node            text NOT NULL DEFAULT '',
    role            text NOT NULL CHECK (role IN ('customer', 'agent', 'consult', 'transfer', 'supervisor')),
    agent_id        bigint REFERENCES agents(id) ON DELETE SET NULL,
    channel_name    text NOT NULL DEFAULT '',
    dial_string     text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    answered_at     timestamptz,
    ended_at        timestamptz,
    hangup_cause    text NOT NULL DEFAULT ''
);
CREATE INDEX legs_interaction ON legs (interaction_id);

-- Every step of an interaction as it happened (IVR steps, DTMF, offers, holds ...).
CREATE TABLE interaction_events (
    event_id        uuid PRIMARY KEY,
    interaction_id  uuid NOT NULL,
    at              timestamptz NOT NULL,
    type            text NOT NULL,
    agent_id        bigint,
    data            jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX interaction_events_interaction ON interaction_events (interaction_id, at);

-- One row per queue an interaction entered: a call transferred to a second queue
-- counts once in each, as the KPI definitions say.
CREATE TABLE queue_visits (
    interaction_id  uuid NOT NULL,
    seq             smallint NOT NULL,
    queue_name      text NOT NULL,
    entered_at      timestamptz NOT NULL,
    priority        smallint NOT NULL DEFAULT 0,
    answered_at     timestamptz,
    left_at         timestamptz,
    outcome         text NOT NULL DEFAULT 'waiting',  -- answered, abandoned, overflowed, voicemail, callback, transferred
    agent_id        bigint,
    PRIMARY KEY (interaction_id, seq)
);
CREATE INDEX queue_visits_queue ON queue_visits (queue_name, entered_at);

-- Each time an agent was offered an interaction, and how the ring ended.
CREATE TABLE agent_offers (
    interaction_id  uuid NOT NULL,
    leg_uuid        uuid NOT NULL,
    agent_id        bigint NOT NULL,
    queue_name      text NOT NULL DEFAULT '',
    offered_at      timestamptz NOT NULL,
    ended_at        timestamptz,
    outcome         text NOT NULL DEFAULT 'ringing', -- answered, no_answer, rejected, unregistered, caller_gone, failed
    PRIMARY KEY (leg_uuid)
);
CREATE INDEX agent_offers_agent ON agent_offers (agent_id, offered_at);

-- Talk, hold and wrap-up periods per agent per interaction.
CREATE TABLE agent_segments (
    interaction_id  uuid NOT NULL,
    agent_id        bigint NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('talk', 'hold', 'wrapup', 'consult')),
    started_at      timestamptz NOT NULL,
    ended_at        timestamptz,
    queue_name      text NOT NULL DEFAULT '',
    PRIMARY KEY (interaction_id, agent_id, kind, started_at)
);
CREATE INDEX agent_segments_agent ON agent_segments (agent_id, started_at);

-- Every agent state change; durations come from the next row of the same agent.
CREATE TABLE agent_state_history (
    event_id    uuid PRIMARY KEY,
    agent_id    bigint NOT NULL,
    at          timestamptz NOT NULL,
    state       text NOT NULL,
    reason      text NOT NULL DEFAULT '',
    extension   text NOT NULL DEFAULT '',
    interaction_id uuid,
    previous_state text NOT NULL DEFAULT ''
);
CREATE INDEX agent_state_history_agent ON agent_state_history (agent_id, at);

CREATE TABLE recordings (
    id              uuid PRIMARY KEY,
    interaction_id  uuid NOT NULL,
    leg_uuid        uuid,
    agent_id        bigint,
    queue_name      text NOT NULL DEFAULT '',
    caller_number   text NOT NULL DEFAULT '',
    path            text NOT NULL,
    started_at      timestamptz NOT NULL,
    ended_at        timestamptz,
    duration_ms     bigint,
    size_bytes      bigint,
    paused_ms       bigint NOT NULL DEFAULT 0,
    deleted_at      timestamptz
);
CREATE INDEX recordings_interaction ON recordings (interaction_id);
CREATE INDEX recordings_started ON recordings (started_at);

CREATE TABLE voicemails (
    id              uuid PRIMARY KEY,
    box             text NOT NULL,                -- 'queue:<name>' or 'agent:<code>'
    interaction_id  uuid,
    caller_number   text NOT NULL DEFAULT '',
    event_code      text NOT NULL DEFAULT '',
    path            text NOT NULL,
    duration_ms     bigint,
    status          text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'assigned', 'handled')),
    assigned_agent_id bigint,
    created_at      timestamptz NOT NULL,
    handled_at      timestamptz,
    handled_by      bigint
);
CREATE INDEX voicemails_box ON voicemails (box, status, created_at);

CREATE TABLE audit_log (
    id           bigserial PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    actor_type   text NOT NULL CHECK (actor_type IN ('user', 'token', 'system')),
    actor_id     bigint,
    actor_name   text NOT NULL DEFAULT '',
    action       text NOT NULL,
    target_type  text NOT NULL DEFAULT '',
    target_id    text NOT NULL DEFAULT '',
    details      jsonb NOT NULL DEFAULT '{}'::jsonb,
    result       text NOT NULL DEFAULT 'ok'
);
CREATE INDEX audit_log_at ON audit_log (at);
