-- Moving a step touches its children by their keys only (no scan of a big task's steps);
-- a batch is read once.

CREATE OR REPLACE FUNCTION tasker_step_moved() RETURNS trigger LANGUAGE plpgsql AS $$
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

-- The batch is `jsonb`, parsed once, not re-read at every field.
DROP FUNCTION tasker_apply(json);

-- A batch of changes (JSON, read once) in one call (one round trip), in order, all or nothing (the rows of
-- its tasks locked first). `batch` is
-- {"now", "fence"?, "changes": [...]}, each change as tasker's `Change` says (see
-- src/store/postgres/apply.rs). Fences: {"task", "pid", "host", "started_at"} — the runner
-- that owns the task (its row stays locked to the end); or {"step", "attempt", "worker"} —
-- the worker that claimed the step's attempt. Returns 'ok', or 'fenced' when the fence does
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
    IF f IS NOT NULL AND f->>'step' IS NOT NULL THEN
        SELECT s.task_id INTO id FROM workflow_steps s WHERE s.workflow_step_id = (f->>'step')::bigint;
        IF NOT tasker_busy(id) THEN
            RETURN 'settled';
        END IF;
    END IF;
    RETURN 'ok';
END $$;
