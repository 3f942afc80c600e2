-- A step's parents are kept on its row, as a JSON array of their `workflow_step_id`s in
-- ascending order (NULL for none): a task's creation writes a row a step instead of a row
-- and two index entries an edge more. `workflow_step_edges` stays, as a view of them.
ALTER TABLE workflow_steps ADD COLUMN parents TEXT;
UPDATE workflow_steps SET parents = (
    SELECT json_group_array(from_step_id) FROM (
        SELECT from_step_id FROM workflow_step_edges
        WHERE to_step_id = workflow_steps.workflow_step_id
        ORDER BY from_step_id))
WHERE workflow_step_id IN (SELECT to_step_id FROM workflow_step_edges);
DROP TABLE workflow_step_edges;
CREATE VIEW workflow_step_edges (from_step_id, to_step_id, name) AS
    SELECT p.value, s.workflow_step_id, 'provides'
    FROM workflow_steps s, json_each(s.parents) p
    WHERE s.parents IS NOT NULL;
