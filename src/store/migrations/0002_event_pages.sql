-- The event log in pages: the events of one task recorded in one commit share a row (at most
-- 64 of them, one JSON text per line), instead of a row each. The events and their order are
-- unchanged; an existing event becomes a page of one.
ALTER TABLE events RENAME TO events_v1;

CREATE TABLE events (
    event_id   INTEGER PRIMARY KEY,
    task_id    INTEGER NOT NULL REFERENCES tasks (task_id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    last_seq   INTEGER NOT NULL,
    payload    TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (task_id, seq)
);

INSERT INTO events (task_id, seq, last_seq, payload, created_at)
    SELECT task_id, seq, seq, payload, created_at FROM events_v1 ORDER BY task_id, seq;

DROP TABLE events_v1;
