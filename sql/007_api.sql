-- The integration surface: API tokens, webhook subscriptions, the webhook outbox and
-- its delivery log (cti/tokens.py, cti/webhooks.py and friends).

-- A token is shown once at creation; only the SHA-256 of it is kept. The token is 256
-- random bits, so a fast hash is as safe as a slow one here and lets a request find
-- its token through the unique index in one lookup.
CREATE TABLE api_tokens (
    id               bigserial PRIMARY KEY,
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    token_hash       text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    prefix           text NOT NULL,                     -- the first characters, to recognise a token in lists
    scopes           text[] NOT NULL CHECK (cardinality(scopes) >= 1),
    allowed_cidrs    text[] NOT NULL DEFAULT '{}',      -- empty: any address
    rate_per_minute  integer NOT NULL DEFAULT 600 CHECK (rate_per_minute BETWEEN 1 AND 100000),
    expires_at       timestamptz,
    revoked_at       timestamptz,
    created_by       bigint REFERENCES users(id) ON DELETE SET NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    last_used_at     timestamptz,
    last_used_ip     text NOT NULL DEFAULT ''
);

-- Where to post domain events. `events` are patterns such as call.* or agent.state_changed.
-- The secret signs every delivery (HMAC-SHA256); it must be readable to sign, so it is
-- kept as given. Private, loopback and link-local targets are refused unless an admin
-- ticked allow_private for this subscription.
CREATE TABLE webhook_subscriptions (
    id             bigserial PRIMARY KEY,
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    url            text NOT NULL CHECK (url ~ '^https?://'),
    events         text[] NOT NULL CHECK (cardinality(events) >= 1),
    secret         text NOT NULL CHECK (length(secret) >= 16),
    active         boolean NOT NULL DEFAULT true,
    allow_private  boolean NOT NULL DEFAULT false,
    created_by     text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- One row per (domain event, subscription): inserting twice changes nothing. `id` gives
-- the order; a row is only sent once every earlier row of the same subscription and
-- interaction was delivered (order kept per interaction). `body` is the exact JSON
-- sent, so every attempt is signed over the same bytes.
CREATE TABLE webhook_outbox (
    id               bigserial PRIMARY KEY,
    subscription_id  bigint NOT NULL REFERENCES webhook_subscriptions(id) ON DELETE CASCADE,
    event_id         uuid NOT NULL,
    event_type       text NOT NULL,
    interaction_id   text,                            -- NULL: not ordered with anything
    body             text NOT NULL,
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_status_code integer,
    last_error       text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz,
    UNIQUE (subscription_id, event_id)
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX webhook_outbox_order ON webhook_outbox (subscription_id, interaction_id, id)
    WHERE status <> 'delivered';
CREATE INDEX webhook_outbox_subscription ON webhook_outbox (subscription_id, id DESC);

-- Every attempt: when, the response code (NULL: no response), how long, what went wrong.
CREATE TABLE webhook_deliveries (
    id               bigserial PRIMARY KEY,
    outbox_id        bigint NOT NULL REFERENCES webhook_outbox(id) ON DELETE CASCADE,
    subscription_id  bigint NOT NULL REFERENCES webhook_subscriptions(id) ON DELETE CASCADE,
    attempt          integer NOT NULL,
    at               timestamptz NOT NULL DEFAULT now(),
    status_code      integer,
    duration_ms      double precision NOT NULL,
    error            text NOT NULL DEFAULT ''
);
CREATE INDEX webhook_deliveries_subscription ON webhook_deliveries (subscription_id, id DESC);
CREATE INDEX webhook_deliveries_outbox ON webhook_deliveries (outbox_id);
