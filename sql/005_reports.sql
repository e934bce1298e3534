-- Reports: queue figures pre-aggregated per 15-minute UTC slot, so that a report over
-- months reads thousands of rows instead of millions of queue visits.
--
-- The columns after the thresholds are the additive measures of reports/kpi.py
-- (MEASURES): counts and sums of seconds, plus the longest wait (combined by max).
-- Every real time zone is a whole number of 15 minutes from UTC, so any local 30-minute,
-- hourly, daily ... bucket is a whole number of slots. A row records the thresholds it
-- was computed with; a report asked for other thresholds reads the raw visits instead.
-- Rows are recomputed (never incremented), so writing one twice changes nothing.

CREATE TABLE report_queue_slots (
    slot             timestamptz NOT NULL,                 -- UTC start of the 15-minute slot
    queue_name       text NOT NULL,
    sl_threshold_s   double precision NOT NULL,            -- service-level threshold T used
    short_abandon_s  double precision NOT NULL,            -- short-abandon threshold S used
    visits           integer NOT NULL,
    offered          integer NOT NULL,
    answered         integer NOT NULL,
    abandoned        integer NOT NULL,
    short_abandoned  integer NOT NULL,
    answered_within  integer NOT NULL,
    abandoned_after  integer NOT NULL,
    overflowed       integer NOT NULL,
    voicemail        integer NOT NULL,
    callback         integer NOT NULL,
    transferred      integer NOT NULL,
    answer_wait_s    double precision NOT NULL,
    abandon_wait_s   double precision NOT NULL,
    waited_s         double precision NOT NULL,
    talk_s           double precision NOT NULL,
    hold_s           double precision NOT NULL,
    wrapup_s         double precision NOT NULL,
    longest_wait_s   double precision NOT NULL,
    computed_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (slot, queue_name),
    CHECK (date_part('epoch', slot)::bigint % 900 = 0)
);

-- Slot ranges rebuilt in full from the raw tables (reports.rollup.rebuild). Inside them
-- an absent row means "no call"; outside them reports read the raw visits.
CREATE TABLE report_rollup_ranges (
    range_start  timestamptz PRIMARY KEY,
    range_end    timestamptz NOT NULL,
    CHECK (range_end > range_start)
);

-- Range reads of the raw tables (reports over periods without pre-aggregated slots,
-- and the roll-up rebuild) scan visits by entry time and segments by start time.
CREATE INDEX queue_visits_entered ON queue_visits (entered_at);
CREATE INDEX agent_segments_started ON agent_segments (started_at);
-- abandoned_calls asks, per abandoned call, whether an agent called the number back.
CREATE INDEX interactions_callee_outbound ON interactions (callee_number, started_at) WHERE direction = 'outbound';
