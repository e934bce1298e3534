-- What routing persists (routing/ decides, the routing engine writes): IVR node
-- statistics, caller shortcuts, callbacks that keep a caller's place in a queue, and
-- the wait-time estimator of each queue so EWT survives a restart. Queue rules,
-- flows, calendars, DIDs and caller lists live in 001_site.sql.

-- Per flow version, node and day: how callers moved through the IVR. Written in
-- batches by the engine from the IVR timeline (routing.ivr_stats.node_stats): the
-- counters are added with INSERT ... ON CONFLICT DO UPDATE SET visits = visits + ...
CREATE TABLE ivr_node_stats (
    flow_name     text NOT NULL,
    flow_version  integer NOT NULL,
    node          text NOT NULL,
    day           date NOT NULL,
    visits        bigint NOT NULL DEFAULT 0 CHECK (visits >= 0),
    hangups       bigint NOT NULL DEFAULT 0 CHECK (hangups >= 0),
    retries       bigint NOT NULL DEFAULT 0 CHECK (retries >= 0),   -- invalid input and timeouts
    seconds_total double precision NOT NULL DEFAULT 0 CHECK (seconds_total >= 0),
    exits         jsonb NOT NULL DEFAULT '{}'::jsonb,               -- exit label -> count ("1": 40, "failure": 2)
    PRIMARY KEY (flow_name, flow_version, node, day)
);
-- "Most requested services" for the quick menu reads recent days of one flow.
CREATE INDEX ivr_node_stats_recent ON ivr_node_stats (flow_name, day);

-- A caller's shortcut per flow: the service node they used last ('last') and the one
-- they chose to remember ('saved'). The IVR offers saved before last.
CREATE TABLE caller_shortcuts (
    caller_number  text NOT NULL,
    flow_name      text NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('last', 'saved')),
    node           text NOT NULL,
    uses           integer NOT NULL DEFAULT 1 CHECK (uses >= 1),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (caller_number, flow_name, kind)
);

-- A caller who chose "call me back" keeps their place: enqueued_at and priority are
-- the ones they had in the queue, so the router ranks the callback where the call
-- was. When an agent takes it, the engine calls the agent and then the number.
CREATE TABLE callbacks (
    id                      uuid PRIMARY KEY,
    interaction_id          uuid NOT NULL,           -- the inbound call that asked for it
    queue_name              text NOT NULL,
    number                  text NOT NULL,
    requested_at            timestamptz NOT NULL,
    enqueued_at             timestamptz NOT NULL,    -- the original place in the queue
    priority                smallint NOT NULL DEFAULT 0,
    language                text NOT NULL DEFAULT 'en',
    status                  text NOT NULL DEFAULT 'waiting'
                            CHECK (status IN ('waiting', 'dialing', 'connected', 'failed', 'cancelled', 'done')),
    attempts                smallint NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_attempt_at         timestamptz,
    agent_id                bigint REFERENCES agents(id) ON DELETE SET NULL,
    callback_interaction_id uuid,                    -- the outbound interaction that served it
    updated_at              timestamptz NOT NULL DEFAULT now(),
    CHECK (enqueued_at <= requested_at)
);
-- Reloaded into the router at start-up, in queue order.
CREATE INDEX callbacks_waiting ON callbacks (queue_name, enqueued_at) WHERE status = 'waiting';
CREATE UNIQUE INDEX callbacks_one_per_interaction ON callbacks (interaction_id);

-- The EWT estimator of each queue (routing.ewt.WaitEstimator), saved now and then.
CREATE TABLE queue_wait_estimates (
    queue_name      text PRIMARY KEY,
    aht_seconds     double precision NOT NULL CHECK (aht_seconds >= 0),
    correction      double precision NOT NULL DEFAULT 1 CHECK (correction > 0),
    handle_samples  integer NOT NULL DEFAULT 0,
    wait_samples    integer NOT NULL DEFAULT 0,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
