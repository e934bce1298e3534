-- Callbacks get a due time. The routing engine dials a callback only once it is due,
-- picks up callbacks scheduled while it runs (the agent desktop's "call me back at
-- ..."), and tries a callback whose customer did not answer again later instead of
-- giving it up at once (routing/callback_schedule.py).
--
-- due_at NULL means due at requested_at: the time the customer asked for (rows the
-- agent desktop writes) or the moment the caller pressed the callback key. The engine
-- writes due_at itself when it keeps a caller's place or schedules another attempt.
ALTER TABLE callbacks ADD COLUMN due_at timestamptz;

-- What the engine's periodic check reads: waiting callbacks by the time they are due.
CREATE INDEX callbacks_due ON callbacks ((coalesce(due_at, requested_at))) WHERE status = 'waiting';
