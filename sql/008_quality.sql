-- Quality review: scoring forms (criteria with weights) and the scores supervisors give
-- recordings against them (cti/quality.py). A score keeps a copy of each criterion as
-- it was when scored (label, weight, points), so editing a form later never changes a
-- score already given.

CREATE TABLE quality_forms (
    id           bigserial PRIMARY KEY,
    name         text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
    description  text NOT NULL DEFAULT '',
    active       boolean NOT NULL DEFAULT true,
    created_by   bigint REFERENCES users(id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- One question of a form: scored from 0 to max_points, counting `weight` in the total.
CREATE TABLE quality_criteria (
    id           bigserial PRIMARY KEY,
    form_id      bigint NOT NULL REFERENCES quality_forms(id) ON DELETE CASCADE,
    position     smallint NOT NULL,
    label        text NOT NULL CHECK (length(label) BETWEEN 1 AND 200),
    description  text NOT NULL DEFAULT '',
    weight       numeric(6, 2) NOT NULL CHECK (weight > 0),
    max_points   smallint NOT NULL DEFAULT 5 CHECK (max_points BETWEEN 1 AND 100),
    UNIQUE (form_id, position)
);

-- One review of one recording against one form by one reviewer; `total` is the
-- weighted score in percent (0-100).
CREATE TABLE quality_scores (
    id              bigserial PRIMARY KEY,
    recording_id    uuid REFERENCES recordings(id) ON DELETE SET NULL,   -- kept when the audio is purged
    interaction_id  uuid NOT NULL,
    agent_id        bigint REFERENCES agents(id) ON DELETE SET NULL,
    form_id         bigint REFERENCES quality_forms(id) ON DELETE SET NULL,
    form_name       text NOT NULL,
    scored_by       bigint REFERENCES users(id) ON DELETE SET NULL,
    scorer_name     text NOT NULL DEFAULT '',
    total           numeric(5, 2) NOT NULL CHECK (total BETWEEN 0 AND 100),
    comments        text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (recording_id, form_id, scored_by)
);
CREATE INDEX quality_scores_agent ON quality_scores (agent_id, created_at DESC);
CREATE INDEX quality_scores_recording ON quality_scores (recording_id);

CREATE TABLE quality_score_items (
    score_id      bigint NOT NULL REFERENCES quality_scores(id) ON DELETE CASCADE,
    position      smallint NOT NULL,
    criterion_id  bigint REFERENCES quality_criteria(id) ON DELETE SET NULL,
    label         text NOT NULL,
    weight        numeric(6, 2) NOT NULL CHECK (weight > 0),
    max_points    smallint NOT NULL CHECK (max_points BETWEEN 1 AND 100),
    points        smallint NOT NULL CHECK (points BETWEEN 0 AND max_points),
    comment       text NOT NULL DEFAULT '',
    PRIMARY KEY (score_id, position)
);

-- Searching recordings by agent and by queue (the index on started_at exists).
CREATE INDEX recordings_agent ON recordings (agent_id, started_at DESC);
CREATE INDEX recordings_queue ON recordings (queue_name, started_at DESC);
