-- Steps claimed one by one by workers on many machines (`tasker worker`).

-- Each step's parents not yet `complete` or `resolved_manually`: a step is ready when it is
-- `pending` and this is 0. Kept by the trigger below, whoever moves a step.
ALTER TABLE workflow_steps ADD COLUMN unfinished_parents BIGINT NOT NULL DEFAULT 0;
-- The worker running the step's current attempt (while it is `in_progress` under a worker).
ALTER TABLE workflow_steps ADD COLUMN claimed_by TEXT;
-- The task's `timeout` (ms): under workers its deadline is `run_started_at` plus this.
ALTER TABLE tasks ADD COLUMN timeout_ms BIGINT;
-- When the task's current run started (its last move to `in_progress`).
ALTER TABLE tasks ADD COLUMN run_started_at BIGINT;
-- No step of the task is claimed any more (its runner stopped it under `--fail-fast`).
ALTER TABLE tasks ADD COLUMN claims_closed BOOLEAN NOT NULL DEFAULT false;

CREATE INDEX workflow_steps_ready ON workflow_steps (task_id, position)
    WHERE status = 'pending' AND unfinished_parents = 0;
CREATE INDEX workflow_steps_retry ON workflow_steps (next_retry_at)
    WHERE status = 'error' AND next_retry_at IS NOT NULL;
CREATE INDEX workflow_steps_claimed ON workflow_steps (claimed_by)
    WHERE claimed_by IS NOT NULL;

-- The workers, each with its heartbeat: a worker silent past the grace period is dead, and
-- any other worker (or `run`) takes back the steps it held.
CREATE TABLE workers (
    worker_id    TEXT PRIMARY KEY,
    host         TEXT NOT NULL,
    pid          BIGINT NOT NULL,
    started_at   BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL,
    draining     BOOLEAN NOT NULL DEFAULT false,
    -- Silent this long (ms), the worker is taken for dead: its own `--grace`.
    grace_ms     BIGINT NOT NULL DEFAULT 10000
);

-- A step crossing into or out of `complete`/`resolved_manually` moves its children's counts;
-- a child whose count reaches 0 while `pending` is ready, and waiting workers are woken
-- (PostgreSQL sends one notification per commit however many steps became ready).
CREATE FUNCTION tasker_step_moved() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    was boolean := OLD.status IN ('complete', 'resolved_manually');
    now_done boolean := NEW.status IN ('complete', 'resolved_manually');
    child bigint;
    left_over bigint;
    still text;
    woke boolean := false;
BEGIN
    IF was = now_done THEN
        IF NEW.status IN ('pending', 'error') AND OLD.status NOT IN ('pending', 'error') THEN
            PERFORM pg_notify('tasker_ready', '');
        END IF;
        RETURN NULL;
    END IF;
    -- Each child by its key: a big task's steps are never scanned, whatever the planner
    -- knows of the table.
    FOR child IN SELECT e.to_step_id FROM workflow_step_edges e
                  WHERE e.from_step_id = NEW.workflow_step_id LOOP
        UPDATE workflow_steps
           SET unfinished_parents = unfinished_parents + CASE WHEN now_done THEN -1 ELSE 1 END
         WHERE workflow_step_id = child
        RETURNING unfinished_parents, status INTO left_over, still;
        IF left_over = 0 AND still = 'pending' THEN
            woke := true;
        END IF;
    END LOOP;
    IF woke THEN
        PERFORM pg_notify('tasker_ready', '');
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER workflow_steps_moved AFTER UPDATE OF status ON workflow_steps
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION tasker_step_moved();

-- A batch of changes (JSON, read once) in one call (one round trip), in order, all or nothing (the rows of
-- its tasks locked first). `batch` is
-- {"now", "fence"?, "changes": [...]}, each change as tasker's `Change` says (see
-- src/store/postgres/apply.rs). Fences: {"task", "pid", "host", "started_at"} — the runner
-- that owns the task (its row stays locked to the end); or {"step", "attempt", "worker"} —
-- the worker that claimed the step's attempt, whose claim the batch ends (with "hold", it
-- is kept: what the worker records while the attempt runs). Returns 'ok', or 'fenced' when the fence does
-- not hold (nothing is written), or 'settled' when a worker's completion leaves its task with
-- nothing to run. A transition whose row no longer holds the state it
-- expects raises SQLSTATE 'TK001' with the message 'ENTITY ID EXPECTED'. Events are
-- numbered here, after the task's last one (the task's row locked while they are).
CREATE FUNCTION tasker_apply(batch jsonb) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    c jsonb;
    k text;
    now_ms bigint := (batch->>'now')::bigint;
    f jsonb := CASE WHEN jsonb_typeof(batch->'fence') = 'object' THEN batch->'fence' END;
    n bigint;
    id bigint;
    seq bigint;
    numbered bigint[] := '{}';
    last_seq bigint[] := '{}';
    i int;
BEGIN
    -- The rows of the tasks the batch is about are locked first, in one order, before any
    -- of their steps': writers of one task queue here instead of deadlocking.
    FOR id IN
        SELECT DISTINCT x.t FROM (
            SELECT (e->>'task')::bigint AS t FROM jsonb_array_elements(batch->'changes') e
             WHERE e->>'kind' IN ('task', 'event', 'trace')
            UNION
            SELECT s.task_id FROM workflow_steps s
             WHERE f IS NOT NULL AND s.workflow_step_id = (f->>'step')::bigint
            UNION
            SELECT s.task_id FROM workflow_steps s
             WHERE s.workflow_step_id IN (
                   SELECT (e->>'step')::bigint FROM jsonb_array_elements(batch->'changes') e
                    WHERE e->>'kind' = 'step')) x
         WHERE x.t IS NOT NULL
         ORDER BY x.t
    LOOP
        PERFORM 1 FROM tasks WHERE task_id = id FOR UPDATE;
    END LOOP;
    IF f IS NOT NULL AND f->>'task' IS NOT NULL THEN
        PERFORM 1 FROM tasks WHERE task_id = (f->>'task')::bigint
           AND owner_pid = (f->>'pid')::bigint AND owner_host = f->>'host'
           AND owner_started_at = (f->>'started_at')::bigint
           FOR UPDATE;
        IF NOT FOUND THEN
            RETURN 'fenced';
        END IF;
    ELSIF f IS NOT NULL AND f ? 'hold' THEN
        PERFORM 1 FROM workflow_steps
         WHERE workflow_step_id = (f->>'step')::bigint AND attempts = (f->>'attempt')::bigint
           AND claimed_by = f->>'worker' AND status = 'in_progress'
           FOR UPDATE;
        IF NOT FOUND THEN
            RETURN 'fenced';
        END IF;
    ELSIF f IS NOT NULL THEN
        UPDATE workflow_steps SET claimed_by = NULL
         WHERE workflow_step_id = (f->>'step')::bigint AND attempts = (f->>'attempt')::bigint
           AND claimed_by = f->>'worker' AND status = 'in_progress';
        IF NOT FOUND THEN
            RETURN 'fenced';
        END IF;
    END IF;
    FOR c IN SELECT * FROM jsonb_array_elements(batch->'changes') LOOP
        k := c->>'kind';
        IF k = 'task' THEN
            id := (c->>'task')::bigint;
            UPDATE tasks SET status = c->>'to', updated_at = now_ms,
                started_at = CASE WHEN c->>'to' = 'in_progress' THEN COALESCE(started_at, now_ms) ELSE started_at END,
                run_started_at = CASE WHEN c->>'to' = 'in_progress' AND c->>'from' <> 'in_progress' THEN now_ms ELSE run_started_at END,
                claims_closed = CASE WHEN c->>'to' = 'in_progress' AND c->>'from' <> 'in_progress' THEN false ELSE claims_closed END,
                finished_at = CASE WHEN c->>'to' IN ('complete', 'error', 'cancelled', 'resolved_manually')
                                   THEN now_ms ELSE NULL END,
                owner_pid = CASE WHEN c->>'from' = 'in_progress' AND c->>'to' <> 'in_progress' THEN NULL ELSE owner_pid END,
                owner_host = CASE WHEN c->>'from' = 'in_progress' AND c->>'to' <> 'in_progress' THEN NULL ELSE owner_host END,
                owner_started_at = CASE WHEN c->>'from' = 'in_progress' AND c->>'to' <> 'in_progress' THEN NULL ELSE owner_started_at END,
                heartbeat_at = CASE WHEN c->>'from' = 'in_progress' AND c->>'to' <> 'in_progress' THEN NULL ELSE heartbeat_at END
             WHERE task_id = id AND status = c->>'from';
            IF NOT FOUND THEN
                RAISE EXCEPTION USING ERRCODE = 'TK001', MESSAGE = 'task ' || id || ' ' || (c->>'from');
            END IF;
            UPDATE task_transitions SET most_recent = false WHERE task_id = id AND most_recent;
            INSERT INTO task_transitions (task_id, from_state, to_state, sort_key, most_recent, metadata, created_at)
            VALUES (id, c->>'from', c->>'to',
                    (SELECT COALESCE(MAX(sort_key), 0) + 1 FROM task_transitions WHERE task_id = id),
                    true, c->>'metadata', now_ms);
        ELSIF k = 'step' THEN
            id := (c->>'step')::bigint;
            UPDATE workflow_steps SET status = c->>'to', attempts = (c->>'attempts')::bigint,
                flaky = (c->>'flaky')::boolean, results = c->>'results',
                error_class = c->>'error_class', error_message = c->>'error_message',
                next_retry_at = (c->>'next_retry_at')::bigint, started_at = (c->>'started_at')::bigint,
                finished_at = (c->>'finished_at')::bigint, updated_at = now_ms,
                counted_attempts = (c->>'counted')::bigint,
                claimed_by = CASE WHEN c->>'to' = 'in_progress' THEN claimed_by ELSE NULL END
             WHERE workflow_step_id = id AND status = c->>'from';
            IF NOT FOUND THEN
                RAISE EXCEPTION USING ERRCODE = 'TK001', MESSAGE = 'step ' || id || ' ' || (c->>'from');
            END IF;
            UPDATE workflow_step_transitions SET most_recent = false WHERE workflow_step_id = id AND most_recent;
            INSERT INTO workflow_step_transitions (workflow_step_id, from_state, to_state, sort_key, most_recent, metadata, created_at)
            VALUES (id, c->>'from', c->>'to',
                    (SELECT COALESCE(MAX(sort_key), 0) + 1 FROM workflow_step_transitions WHERE workflow_step_id = id),
                    true, c->>'metadata', now_ms);
        ELSIF k = 'attempt_started' THEN
            INSERT INTO step_attempts (workflow_step_id, attempt, started_at)
            VALUES ((c->>'step')::bigint, (c->>'attempt')::bigint, now_ms);
        ELSIF k = 'attempt_process' THEN
            UPDATE step_attempts SET pid = (c->>'pid')::bigint, pid_started_at = (c->>'started_at')::bigint
             WHERE workflow_step_id = (c->>'step')::bigint AND attempt = (c->>'attempt')::bigint;
        ELSIF k = 'attempt_finished' THEN
            UPDATE step_attempts SET finished_at = now_ms, outcome = c->>'outcome',
                exit_code = (c->>'exit_code')::bigint, signal = (c->>'signal')::bigint,
                error_class = c->>'error_class', error_message = c->>'error_message',
                stdout = decode(c->>'stdout', 'hex'), stderr = decode(c->>'stderr', 'hex'),
                stdout_dropped = (c->>'stdout_dropped')::bigint, stderr_dropped = (c->>'stderr_dropped')::bigint,
                custom_events = c->>'custom_events'
             WHERE workflow_step_id = (c->>'step')::bigint AND attempt = (c->>'attempt')::bigint;
        ELSIF k = 'trace' THEN
            UPDATE tasks SET traceparent = c->>'traceparent' WHERE task_id = (c->>'task')::bigint;
        ELSIF k = 'event' THEN
            id := (c->>'task')::bigint;
            seq := (c->>'seq')::bigint;
            IF seq = 0 THEN
                -- Numbered here: after the task's last event, the task's row locked.
                i := array_position(numbered, id);
                IF i IS NULL THEN
                    SELECT COALESCE(MAX(e.seq), 0) INTO n FROM events e WHERE e.task_id = id;
                    numbered := numbered || id;
                    last_seq := last_seq || n;
                    i := array_length(numbered, 1);
                END IF;
                last_seq[i] := last_seq[i] + 1;
                seq := last_seq[i];
            END IF;
            INSERT INTO events (task_id, seq, name, payload, created_at)
            VALUES (id, seq, c->>'name',
                    regexp_replace(c->>'doc', '^\{"seq":[0-9]+,', '{"seq":' || seq || ','), now_ms);
        ELSE
            RAISE EXCEPTION 'unknown change kind %', k;
        END IF;
    END LOOP;
    -- A worker's completion that leaves its task with nothing running, ready or waiting for
    -- a retry says so: the task's end is due.
    IF f IS NOT NULL AND f->>'step' IS NOT NULL AND NOT f ? 'hold' THEN
        SELECT s.task_id INTO id FROM workflow_steps s WHERE s.workflow_step_id = (f->>'step')::bigint;
        IF NOT tasker_busy(id) THEN
            RETURN 'settled';
        END IF;
    END IF;
    RETURN 'ok';
END $$;

-- Claim up to `n` ready steps (pending with every parent done, or in error with a retry due)
-- of tasks in progress (under workers, or under a `run` that workers help), optionally of some
-- namespaces, template names or one task: each moves to `in_progress` under `worker` for
-- its next attempt (a retry through `pending`, as the state tables say), with its attempt
-- row and its transitions, in one call. Rows another worker is claiming are skipped, not
-- waited for: the lock is taken inside the sub-select that picks them.
CREATE FUNCTION tasker_claim(worker text, n bigint, now_ms bigint, namespaces text[],
                             names text[], only_task bigint)
RETURNS TABLE (step_id bigint, task_id bigint, step_position bigint, attempt bigint, was text,
               ready_at bigint)
LANGUAGE plpgsql AS $$
DECLARE
    r record;
    next_attempt bigint;
BEGIN
    -- Ready steps first, then retries that are due: each pick is a locking sub-select over
    -- its own partial index.
    FOR r IN
        SELECT s.workflow_step_id AS id, s.task_id AS task, s.position AS pos, s.attempts AS tries,
               s.status AS status, s.next_retry_at AS due, s.updated_at AS since
          FROM workflow_steps s
         WHERE s.workflow_step_id IN (
               SELECT c.workflow_step_id FROM workflow_steps c
                 JOIN tasks t ON t.task_id = c.task_id
                 JOIN named_tasks nt ON nt.named_task_id = t.named_task_id
                 JOIN task_namespaces ns ON ns.task_namespace_id = nt.task_namespace_id
                WHERE c.status = 'pending' AND c.unfinished_parents = 0
                  AND t.status = 'in_progress' AND NOT t.claims_closed
                  AND (t.timeout_ms IS NULL OR t.run_started_at + t.timeout_ms > now_ms)
                  AND (namespaces IS NULL OR ns.name = ANY (namespaces))
                  AND (names IS NULL OR nt.name = ANY (names))
                  AND (only_task IS NULL OR c.task_id = only_task)
                ORDER BY c.task_id, c.position
                LIMIT n
                FOR UPDATE OF c SKIP LOCKED)
        UNION ALL
        SELECT s.workflow_step_id, s.task_id, s.position, s.attempts, s.status, s.next_retry_at,
               s.updated_at
          FROM workflow_steps s
         WHERE s.workflow_step_id IN (
               SELECT c.workflow_step_id FROM workflow_steps c
                 JOIN tasks t ON t.task_id = c.task_id
                 JOIN named_tasks nt ON nt.named_task_id = t.named_task_id
                 JOIN task_namespaces ns ON ns.task_namespace_id = nt.task_namespace_id
                WHERE c.status = 'error' AND c.next_retry_at <= now_ms
                  AND t.status = 'in_progress' AND NOT t.claims_closed
                  AND (t.timeout_ms IS NULL OR t.run_started_at + t.timeout_ms > now_ms)
                  AND (namespaces IS NULL OR ns.name = ANY (namespaces))
                  AND (names IS NULL OR nt.name = ANY (names))
                  AND (only_task IS NULL OR c.task_id = only_task)
                ORDER BY c.next_retry_at
                LIMIT n
                FOR UPDATE OF c SKIP LOCKED)
    LOOP
        EXIT WHEN n <= 0;
        n := n - 1;
        next_attempt := r.tries + 1;
        IF r.status = 'error' THEN
            UPDATE workflow_step_transitions SET most_recent = false
             WHERE workflow_step_id = r.id AND most_recent;
            INSERT INTO workflow_step_transitions (workflow_step_id, from_state, to_state, sort_key, most_recent, metadata, created_at)
            VALUES (r.id, 'error', 'pending',
                    (SELECT COALESCE(MAX(sort_key), 0) + 1 FROM workflow_step_transitions WHERE workflow_step_id = r.id),
                    true, json_build_object('actor', 'tasker', 'reason', 'retry', 'attempt', next_attempt)::text, now_ms);
        END IF;
        UPDATE workflow_steps SET status = 'in_progress', claimed_by = worker, attempts = next_attempt,
               started_at = COALESCE(started_at, now_ms), finished_at = NULL, next_retry_at = NULL,
               updated_at = now_ms
         WHERE workflow_step_id = r.id;
        UPDATE workflow_step_transitions SET most_recent = false
         WHERE workflow_step_id = r.id AND most_recent;
        INSERT INTO workflow_step_transitions (workflow_step_id, from_state, to_state, sort_key, most_recent, metadata, created_at)
        VALUES (r.id, 'pending', 'in_progress',
                (SELECT COALESCE(MAX(sort_key), 0) + 1 FROM workflow_step_transitions WHERE workflow_step_id = r.id),
                true, json_build_object('actor', 'tasker', 'attempt', next_attempt, 'worker', worker)::text, now_ms);
        INSERT INTO step_attempts (workflow_step_id, attempt, started_at) VALUES (r.id, next_attempt, now_ms);
        step_id := r.id;
        task_id := r.task;
        step_position := r.pos;
        attempt := next_attempt;
        was := r.status;
        ready_at := CASE WHEN r.status = 'error' THEN r.due ELSE r.since END;
        RETURN NEXT;
    END LOOP;
END $$;

-- Take back the steps of workers silent for longer than their own grace period (or gone
-- from `workers`): each attempt they held ends `interrupted` and the step waits in `error`
-- with its retry due now, not counted against its limit. Their rows are removed. Returns
-- what was taken.
CREATE FUNCTION tasker_rescue(now_ms bigint)
RETURNS TABLE (step_id bigint, task_id bigint, attempt bigint, worker text, host text,
               pid bigint)
LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT s.workflow_step_id AS id, s.task_id AS task, s.attempts AS tries, s.claimed_by AS holder,
               w.host AS on_host, w.pid AS on_pid
          FROM workflow_steps s
          LEFT JOIN workers w ON w.worker_id = s.claimed_by
         WHERE s.status = 'in_progress' AND s.claimed_by IS NOT NULL
           AND (w.worker_id IS NULL OR w.heartbeat_at < now_ms - w.grace_ms)
         ORDER BY s.task_id, s.position
           FOR UPDATE OF s SKIP LOCKED
    LOOP
        UPDATE workflow_steps SET status = 'error', claimed_by = NULL, next_retry_at = now_ms,
               finished_at = now_ms, error_class = 'interrupted',
               error_message = 'the worker stopped before the attempt ended', updated_at = now_ms
         WHERE workflow_step_id = r.id;
        UPDATE workflow_step_transitions SET most_recent = false
         WHERE workflow_step_id = r.id AND most_recent;
        INSERT INTO workflow_step_transitions (workflow_step_id, from_state, to_state, sort_key, most_recent, metadata, created_at)
        VALUES (r.id, 'in_progress', 'error',
                (SELECT COALESCE(MAX(sort_key), 0) + 1 FROM workflow_step_transitions WHERE workflow_step_id = r.id),
                true, json_build_object('actor', 'tasker', 'attempt', r.tries, 'error_class', 'interrupted',
                                        'worker', r.holder)::text, now_ms);
        UPDATE step_attempts SET finished_at = now_ms, outcome = 'error', error_class = 'interrupted',
               error_message = 'the worker stopped before the attempt ended'
         WHERE workflow_step_id = r.id AND step_attempts.attempt = r.tries;
        step_id := r.id;
        task_id := r.task;
        attempt := r.tries;
        worker := r.holder;
        host := r.on_host;
        pid := r.on_pid;
        RETURN NEXT;
    END LOOP;
    DELETE FROM workers w WHERE w.heartbeat_at < now_ms - w.grace_ms;
END $$;

CREATE INDEX workflow_steps_running ON workflow_steps (task_id) WHERE status = 'in_progress';
CREATE INDEX workflow_steps_waiting ON workflow_steps (task_id)
    WHERE status = 'error' AND next_retry_at IS NOT NULL;

-- Whether anything of task `task` runs, is ready, or waits for a retry (each over its own
-- partial index: a big task is not scanned); past the task's deadline, or once its runner
-- closed it to claims (`--fail-fast`), only what runs.
CREATE FUNCTION tasker_busy(task bigint) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM workflow_steps WHERE task_id = task AND status = 'in_progress')
        OR ((EXISTS (SELECT 1 FROM workflow_steps WHERE task_id = task AND status = 'pending'
                        AND unfinished_parents = 0)
             OR EXISTS (SELECT 1 FROM workflow_steps WHERE task_id = task AND status = 'error'
                           AND next_retry_at IS NOT NULL))
            -- Past its deadline, nothing more of a task starts.
            AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.task_id = task
                               AND (t.claims_closed OR (t.timeout_ms IS NOT NULL
                                    AND t.run_started_at + t.timeout_ms <= (extract(epoch FROM clock_timestamp()) * 1000)::bigint))))
$$;

-- Several batches in one call (a worker's attempts that ended together), each on its own:
-- the answers in order ('ok', 'settled', 'fenced', or 'conflict …' for a batch whose
-- transition was refused and which wrote nothing). The caller orders them by task, so that
-- the rows of their tasks are locked in one order.
CREATE FUNCTION tasker_apply_many(batches jsonb) RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE
    b jsonb;
    answers text[] := '{}';
BEGIN
    FOR b IN SELECT * FROM jsonb_array_elements(batches) LOOP
        BEGIN
            answers := answers || tasker_apply(b);
        EXCEPTION WHEN SQLSTATE 'TK001' THEN
            answers := answers || ('conflict ' || SQLERRM);
        END;
    END LOOP;
    RETURN answers;
END $$;

-- The tasks stored before this migration: their current run started when they did.
UPDATE tasks SET run_started_at = started_at;

-- The counts of the steps stored before this migration.
UPDATE workflow_steps s SET unfinished_parents = (
    SELECT count(*) FROM workflow_step_edges e JOIN workflow_steps p ON p.workflow_step_id = e.from_step_id
     WHERE e.to_step_id = s.workflow_step_id AND p.status NOT IN ('complete', 'resolved_manually'));
