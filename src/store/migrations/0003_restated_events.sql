-- Events a row restates are kept on that row instead of as text in the event log: a step's
-- `step.execution_requested` and `step.completed` on its transition (with the
-- `workflow.viable_steps_discovered` just before the first of a group of starts), its
-- `step.before_handle` on its attempt. Events already recorded stay as they were.
ALTER TABLE workflow_step_transitions ADD COLUMN event_seq INTEGER;
ALTER TABLE workflow_step_transitions ADD COLUMN event_at INTEGER;
ALTER TABLE workflow_step_transitions ADD COLUMN event_attempt INTEGER;
ALTER TABLE workflow_step_transitions ADD COLUMN event_ms INTEGER;
ALTER TABLE workflow_step_transitions ADD COLUMN discovered INTEGER;
ALTER TABLE step_attempts ADD COLUMN handle_seq INTEGER;
ALTER TABLE step_attempts ADD COLUMN handle_at INTEGER;
ALTER TABLE step_attempts ADD COLUMN handler TEXT;
