-- Times are integer milliseconds since the Unix epoch (UTC).

CREATE TABLE task_namespaces (
    task_namespace_id INTEGER PRIMARY KEY,
    name              TEXT NOT NULL UNIQUE,
    description       TEXT,
    created_at        INTEGER NOT NULL
);

CREATE TABLE named_tasks (
    named_task_id     INTEGER PRIMARY KEY,
    task_namespace_id INTEGER NOT NULL REFERENCES task_namespaces (task_namespace_id),
    name              TEXT NOT NULL,
    version           TEXT NOT NULL,
    description       TEXT,
    content_hash      TEXT NOT NULL,
    template          TEXT NOT NULL,
    created_at        INTEGER NOT NULL,
    UNIQUE (task_namespace_id, name, version, content_hash)
);

CREATE TABLE named_steps (
    named_step_id    INTEGER PRIMARY KEY,
    dependent_system TEXT NOT NULL DEFAULT '',
    name             TEXT NOT NULL,
    description      TEXT,
    created_at       INTEGER NOT NULL,
    UNIQUE (dependent_system, name)
);

CREATE TABLE tasks (
    task_id          INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid             TEXT NOT NULL UNIQUE,
    named_task_id    INTEGER NOT NULL REFERENCES named_tasks (named_task_id),
    identity         TEXT NOT NULL,
    environment      TEXT,
    status           TEXT NOT NULL DEFAULT 'pending',
    context          TEXT NOT NULL DEFAULT '{}',
    workdir          TEXT NOT NULL,
    initiator        TEXT,
    source_system    TEXT,
    reason           TEXT,
    tags             TEXT NOT NULL DEFAULT '[]',
    idempotency_key  TEXT,
    traceparent      TEXT,
    owner_pid        INTEGER,
    owner_host       TEXT,
    owner_started_at INTEGER,
    heartbeat_at     INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    started_at       INTEGER,
    finished_at      INTEGER
);
CREATE INDEX tasks_status ON tasks (status);
CREATE INDEX tasks_named_task ON tasks (named_task_id, created_at);
CREATE INDEX tasks_created ON tasks (created_at);
CREATE UNIQUE INDEX tasks_idempotency ON tasks (identity, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

CREATE TABLE workflow_steps (
    workflow_step_id INTEGER PRIMARY KEY,
    task_id          INTEGER NOT NULL REFERENCES tasks (task_id) ON DELETE CASCADE,
    named_step_id    INTEGER NOT NULL REFERENCES named_steps (named_step_id),
    name             TEXT NOT NULL,
    position         INTEGER NOT NULL,
    status           TEXT NOT NULL DEFAULT 'pending',
    attempts         INTEGER NOT NULL DEFAULT 0,
    counted_attempts INTEGER NOT NULL DEFAULT 0,
    retry_limit      INTEGER NOT NULL,
    retryable        INTEGER NOT NULL,
    skippable        INTEGER NOT NULL DEFAULT 0,
    flaky            INTEGER NOT NULL DEFAULT 0,
    results          TEXT,
    error_class      TEXT,
    error_message    TEXT,
    next_retry_at    INTEGER,
    started_at       INTEGER,
    finished_at      INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    parents          TEXT,
    UNIQUE (task_id, name)
);
CREATE INDEX workflow_steps_status ON workflow_steps (status);

-- A step's parents: `workflow_steps.parents`, a JSON array of their ids in ascending order
-- (NULL for none). The edges are a view of them.
CREATE VIEW workflow_step_edges (from_step_id, to_step_id, name) AS
    SELECT p.value, s.workflow_step_id, 'provides'
    FROM workflow_steps s, json_each(s.parents) p
    WHERE s.parents IS NOT NULL;

CREATE TABLE task_transitions (
    task_transition_id INTEGER PRIMARY KEY,
    task_id            INTEGER NOT NULL REFERENCES tasks (task_id) ON DELETE CASCADE,
    from_state         TEXT,
    to_state           TEXT NOT NULL,
    sort_key           INTEGER NOT NULL,
    most_recent        INTEGER NOT NULL,
    metadata           TEXT NOT NULL DEFAULT '{}',
    created_at         INTEGER NOT NULL,
    UNIQUE (task_id, sort_key)
);
CREATE UNIQUE INDEX task_transitions_most_recent ON task_transitions (task_id) WHERE most_recent = 1;

-- A step's transition into `in_progress` or `complete` keeps the event it restates
-- (`step.execution_requested`, `step.completed`): its number `event_seq`, time `event_at`,
-- attempt, and queue wait or duration `event_ms`; `discovered` = N when the
-- `workflow.viable_steps_discovered` numbered `event_seq - 1` named this step and the next
-- N - 1 started. The event log reads them back from here, not from `events`.
CREATE TABLE workflow_step_transitions (
    workflow_step_transition_id INTEGER PRIMARY KEY,
    workflow_step_id            INTEGER NOT NULL REFERENCES workflow_steps (workflow_step_id) ON DELETE CASCADE,
    from_state                  TEXT,
    to_state                    TEXT NOT NULL,
    sort_key                    INTEGER NOT NULL,
    most_recent                 INTEGER NOT NULL,
    metadata                    TEXT NOT NULL DEFAULT '{}',
    created_at                  INTEGER NOT NULL,
    event_seq                   INTEGER,
    event_at                    INTEGER,
    event_attempt               INTEGER,
    event_ms                    INTEGER,
    discovered                  INTEGER,
    UNIQUE (workflow_step_id, sort_key)
);
CREATE UNIQUE INDEX workflow_step_transitions_most_recent
    ON workflow_step_transitions (workflow_step_id) WHERE most_recent = 1;

-- An attempt keeps its `step.before_handle`: number `handle_seq`, time `handle_at`, `handler`.
CREATE TABLE step_attempts (
    step_attempt_id  INTEGER PRIMARY KEY,
    workflow_step_id INTEGER NOT NULL REFERENCES workflow_steps (workflow_step_id) ON DELETE CASCADE,
    attempt          INTEGER NOT NULL,
    started_at       INTEGER NOT NULL,
    finished_at      INTEGER,
    pid              INTEGER,
    pid_started_at   INTEGER,
    outcome          TEXT,
    exit_code        INTEGER,
    signal           INTEGER,
    error_class      TEXT,
    error_message    TEXT,
    stdout           BLOB,
    stderr           BLOB,
    stdout_dropped   INTEGER NOT NULL DEFAULT 0,
    stderr_dropped   INTEGER NOT NULL DEFAULT 0,
    custom_events    TEXT,
    handle_seq       INTEGER,
    handle_at        INTEGER,
    handler          TEXT,
    UNIQUE (workflow_step_id, attempt)
);

-- The event log, a page per row (but for the events rows restate, above): the events `seq` ..= `last_seq` of one task recorded in one
-- commit (at most 64 of them), one JSON text per line, in order; or, for a new task's steps'
-- creation events, where to read them from their rows:
-- `{"derived":"step.initialize_requested","first_step_id":N}`.
CREATE TABLE events (
    event_id   INTEGER PRIMARY KEY,
    task_id    INTEGER NOT NULL REFERENCES tasks (task_id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    last_seq   INTEGER NOT NULL,
    payload    TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (task_id, seq)
);

CREATE TABLE task_annotations (
    task_annotation_id INTEGER PRIMARY KEY,
    task_id            INTEGER NOT NULL REFERENCES tasks (task_id) ON DELETE CASCADE,
    annotation_type    TEXT NOT NULL,
    annotation         TEXT NOT NULL,
    created_at         INTEGER NOT NULL
);
CREATE INDEX task_annotations_task ON task_annotations (task_id, annotation_type, task_annotation_id);
