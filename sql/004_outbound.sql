-- Outbound campaigns: campaigns, contact lists and contacts (custom fields in jsonb),
-- call attempts, do-not-call lists (global and per campaign), contact import jobs with
-- their progress and bad-row report, and the daily compliance counters.
-- Rules and state machines are in outbound/ (campaign_settings.py validates `settings`,
-- campaign_states.py owns the `state` values).

CREATE TABLE outbound_campaigns (
    id                  bigserial PRIMARY KEY,
    name                text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9_-]{1,64}$'),
    display_name        text NOT NULL DEFAULT '',
    state               text NOT NULL DEFAULT 'draft'
                        CHECK (state IN ('draft', 'scheduled', 'running', 'paused', 'stopped', 'finished')),
    mode                text NOT NULL DEFAULT 'progressive'
                        CHECK (mode IN ('predictive', 'progressive', 'preview', 'agentless')),
    compliance_profile  text NOT NULL DEFAULT 'default' CHECK (compliance_profile IN ('default', 'uk_ofcom')),
    queue_name          text NOT NULL DEFAULT '',      -- the agents who work it: members of this queue
    caller_id_number    text NOT NULL DEFAULT '',
    caller_id_name      text NOT NULL DEFAULT '',
    settings            jsonb NOT NULL DEFAULT '{}'::jsonb,
    starts_at           timestamptz,
    ends_at             timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at IS NULL OR starts_at IS NULL OR ends_at > starts_at)
);

-- A list of contacts, dialled by at most one campaign at a time.
CREATE TABLE outbound_contact_lists (
    id              bigserial PRIMARY KEY,
    name            text NOT NULL UNIQUE,
    campaign_id     bigint REFERENCES outbound_campaigns(id) ON DELETE SET NULL,
    priority        smallint NOT NULL DEFAULT 0,       -- higher lists are dialled first
    active          boolean NOT NULL DEFAULT true,
    default_region  text NOT NULL DEFAULT 'US',        -- for numbers written without +country code
    description     text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbound_contact_lists_campaign ON outbound_contact_lists (campaign_id);

CREATE TABLE outbound_import_jobs (
    id              bigserial PRIMARY KEY,
    list_id         bigint NOT NULL REFERENCES outbound_contact_lists(id) ON DELETE CASCADE,
    file_name       text NOT NULL,
    file_format     text NOT NULL CHECK (file_format IN ('csv', 'xlsx')),
    mapping         jsonb NOT NULL DEFAULT '{}'::jsonb,
    default_region  text NOT NULL,
    status          text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'merging', 'done', 'failed')),
    rows_read       integer NOT NULL DEFAULT 0,
    rows_imported   integer NOT NULL DEFAULT 0,     -- new contacts
    rows_merged     integer NOT NULL DEFAULT 0,     -- rows merged into an existing contact of the list
    rows_duplicate  integer NOT NULL DEFAULT 0,     -- rows repeating a number earlier in the same file
    rows_bad        integer NOT NULL DEFAULT 0,
    error           text NOT NULL DEFAULT '',
    started_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz
);
CREATE INDEX outbound_import_jobs_list ON outbound_import_jobs (list_id, started_at DESC);

-- The report of an import: every row not imported as a new contact, with its row number
-- as the user sees it in the file (the header is row 1) and why.
CREATE TABLE outbound_import_issues (
    job_id      bigint NOT NULL REFERENCES outbound_import_jobs(id) ON DELETE CASCADE,
    row_number  integer NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('bad', 'duplicate', 'merged')),
    reason      text NOT NULL,
    raw         jsonb NOT NULL DEFAULT '{}'::jsonb,    -- the row's cells, header -> value
    PRIMARY KEY (job_id, row_number)
);

CREATE TABLE outbound_contacts (
    id               bigserial PRIMARY KEY,
    list_id          bigint NOT NULL REFERENCES outbound_contact_lists(id) ON DELETE CASCADE,
    e164             text NOT NULL CHECK (e164 ~ '^\+[1-9][0-9]{6,14}$'),
    name             text NOT NULL DEFAULT '',
    timezone         text,                             -- IANA zone from the file; NULL: from the number
    fields           jsonb NOT NULL DEFAULT '{}'::jsonb,  -- custom fields, shown in the screen-pop
    state            text NOT NULL DEFAULT 'new'
                     CHECK (state IN ('new', 'dialing', 'connected', 'scheduled_retry', 'done', 'dnc', 'invalid')),
    final_outcome    text NOT NULL DEFAULT '',
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz,
    last_attempt_at  timestamptz,
    last_outcome     text NOT NULL DEFAULT '',
    import_job_id    bigint REFERENCES outbound_import_jobs(id) ON DELETE SET NULL,
    source_row       integer,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (list_id, e164)
);
-- The dialer's hopper query: dialable contacts of a list, due first.
CREATE INDEX outbound_contacts_due ON outbound_contacts (list_id, next_attempt_at NULLS FIRST, id)
    WHERE state IN ('new', 'scheduled_retry');
CREATE INDEX outbound_contacts_number ON outbound_contacts (e164);

-- One row per call placed to a contact.
CREATE TABLE outbound_attempts (
    id              bigserial PRIMARY KEY,
    campaign_id     bigint NOT NULL REFERENCES outbound_campaigns(id) ON DELETE CASCADE,
    contact_id      bigint NOT NULL REFERENCES outbound_contacts(id) ON DELETE CASCADE,
    e164            text NOT NULL,
    interaction_id  uuid,                 -- interactions.id of the call
    agent_id        bigint,
    mode            text NOT NULL,
    agent_reserved  boolean NOT NULL DEFAULT false,
    started_at      timestamptz NOT NULL,
    answered_at     timestamptz,
    ended_at        timestamptz,
    ring_seconds    double precision,
    outcome         text NOT NULL DEFAULT 'dialing'
                    CHECK (outcome IN ('dialing', 'no_answer', 'busy', 'failed', 'machine', 'abandoned',
                                       'connected', 'callback', 'agentless_done', 'invalid_number',
                                       'do_not_call')),
    amd_result      text NOT NULL DEFAULT '' CHECK (amd_result IN ('', 'HUMAN', 'MACHINE', 'NOTSURE')),
    hangup_cause    text NOT NULL DEFAULT '',
    disposition     text NOT NULL DEFAULT ''
);
CREATE INDEX outbound_attempts_contact ON outbound_attempts (contact_id, started_at);
CREATE INDEX outbound_attempts_campaign ON outbound_attempts (campaign_id, started_at);
-- The UK redial rules look up the latest abandoned / machine call to a number.
CREATE INDEX outbound_attempts_number ON outbound_attempts (e164, started_at DESC)
    WHERE outcome IN ('abandoned', 'machine');

-- Do-not-call lists: global ones (campaign_id NULL) apply to every campaign.
CREATE TABLE outbound_dnc_lists (
    id           bigserial PRIMARY KEY,
    name         text NOT NULL UNIQUE,
    campaign_id  bigint REFERENCES outbound_campaigns(id) ON DELETE CASCADE,
    description  text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE outbound_dnc_numbers (
    dnc_list_id  bigint NOT NULL REFERENCES outbound_dnc_lists(id) ON DELETE CASCADE,
    e164         text NOT NULL CHECK (e164 ~ '^\+[1-9][0-9]{6,14}$'),
    reason       text NOT NULL DEFAULT '',
    added_at     timestamptz NOT NULL DEFAULT now(),
    added_by     text NOT NULL DEFAULT '',
    PRIMARY KEY (dnc_list_id, e164)
);
CREATE INDEX outbound_dnc_numbers_number ON outbound_dnc_numbers (e164);

-- Per campaign per day (the rule set's "midnight to midnight" zone): the counts the
-- abandon-rate figures are computed from (outbound/abandon.py explains each column).
CREATE TABLE outbound_daily_counters (
    campaign_id    bigint NOT NULL REFERENCES outbound_campaigns(id) ON DELETE CASCADE,
    day            date NOT NULL,
    dials          integer NOT NULL DEFAULT 0,
    connected      integer NOT NULL DEFAULT 0,
    abandoned      integer NOT NULL DEFAULT 0,
    amd_machine    integer NOT NULL DEFAULT 0,
    agent_machine  integer NOT NULL DEFAULT 0,
    no_answer      integer NOT NULL DEFAULT 0,
    busy           integer NOT NULL DEFAULT 0,
    failed         integer NOT NULL DEFAULT 0,
    late_message   integer NOT NULL DEFAULT 0,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (campaign_id, day)
);
