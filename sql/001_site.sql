-- The site: who signs in, the agents and their skills, queues, IVR flows, calendars
-- and the code lists that `cti provision` loads from a site description.

CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    username      text NOT NULL UNIQUE CHECK (username ~ '^[A-Za-z0-9_.@-]{1,64}$'),
    display_name  text NOT NULL DEFAULT '',
    password_hash text NOT NULL,
    roles         text[] NOT NULL DEFAULT '{}'
                  CHECK (roles <@ ARRAY['agent', 'supervisor', 'campaign_manager', 'admin']::text[]),
    language      text NOT NULL DEFAULT 'en' CHECK (language IN ('en', 'zh')),
    active        boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE teams (
    id    bigserial PRIMARY KEY,
    name  text NOT NULL UNIQUE
);

-- A supervisor's scope: the teams they lead (their queues are in queue_supervisors).
CREATE TABLE team_supervisors (
    team_id  bigint NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    user_id  bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, user_id)
);

-- An agent is a user who takes calls. The extension is only a default: the phone
-- used for a shift is chosen at login (hot-desking) and kept in the live state.
CREATE TABLE agents (
    id                bigserial PRIMARY KEY,
    user_id           bigint NOT NULL UNIQUE REFERENCES users(id) ON DELETE CASCADE,
    code              text NOT NULL UNIQUE,            -- the agent id spoken to callers, e.g. 1001
    default_extension text NOT NULL DEFAULT '',
    team_id           bigint REFERENCES teams(id) ON DELETE SET NULL,
    created_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE skills (
    name         text PRIMARY KEY,
    description  text NOT NULL DEFAULT ''
);

CREATE TABLE agent_skills (
    agent_id  bigint NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    skill     text NOT NULL REFERENCES skills(name) ON DELETE CASCADE,
    level     smallint NOT NULL CHECK (level BETWEEN 1 AND 10),
    PRIMARY KEY (agent_id, skill)
);

-- Queue rules live in `settings` (strategy, required skills, timers, overflow ...),
-- validated by routing/ when loaded, so new rules need no schema change.
CREATE TABLE queues (
    id            bigserial PRIMARY KEY,
    name          text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9_-]{1,64}$'),
    display_name  text NOT NULL DEFAULT '',
    settings      jsonb NOT NULL DEFAULT '{}'::jsonb,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE queue_agents (
    queue_id  bigint NOT NULL REFERENCES queues(id) ON DELETE CASCADE,
    agent_id  bigint NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    tier      smallint NOT NULL DEFAULT 1,
    PRIMARY KEY (queue_id, agent_id)
);

CREATE TABLE queue_supervisors (
    queue_id  bigint NOT NULL REFERENCES queues(id) ON DELETE CASCADE,
    user_id   bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (queue_id, user_id)
);

-- IVR flows are versioned: a call keeps the version it started with.
CREATE TABLE flows (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL,
    version     integer NOT NULL,
    definition  jsonb NOT NULL,
    checksum    text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (name, version)
);

-- Which flow answers which dialled number.
CREATE TABLE dids (
    number     text PRIMARY KEY,
    flow_name  text NOT NULL,
    label      text NOT NULL DEFAULT ''
);

-- Weekly opening hours and holidays, referenced by name from queues and flows.
CREATE TABLE calendars (
    name        text PRIMARY KEY,
    definition  jsonb NOT NULL
);

CREATE TABLE disposition_codes (
    code        text NOT NULL,
    label       text NOT NULL,
    queue_name  text NOT NULL DEFAULT '',      -- '' = available in every queue
    PRIMARY KEY (queue_name, code)
);

CREATE TABLE reason_codes (
    code   text PRIMARY KEY,
    label  text NOT NULL
);

-- Caller lists used by routing: blacklist and VIP numbers.
CREATE TABLE caller_lists (
    list_name  text NOT NULL CHECK (list_name IN ('blacklist', 'vip')),
    number     text NOT NULL,
    note       text NOT NULL DEFAULT '',
    PRIMARY KEY (list_name, number)
);
