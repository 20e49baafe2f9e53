-- Every record's state keeps the exact set of dots applied to it, `"dots":{"dev-a":[3,9,12]}`:
-- a device keeps one counter for all its records, so its counters on one record have gaps,
-- and the version vector alone can't tell whether `dev-a:5` was written here (PROTOCOL.md,
-- Versions). States written before hold no such set; it is rebuilt from what proves a dot
-- was applied: the write log (`record_writes`), the dot of every value still held, and every
-- entry of the vector (each is the greatest dot of its replica). A dot none of these holds
-- (an overwritten write that was never logged) is left out: a later write naming it is
-- rejected, never wrongly accepted.
CREATE FUNCTION fieldsync_applied_dots(state jsonb, account uuid, kind text, record uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT coalesce(jsonb_object_agg(d.replica, d.counters), '{}'::jsonb)
    FROM (
        SELECT replica, jsonb_agg(counter ORDER BY counter) AS counters
        FROM (
            SELECT v.key AS replica, v.value::bigint AS counter
            FROM jsonb_each_text(coalesce(state->'version', '{}'::jsonb)) v
            UNION
            SELECT x->>'replica', (x->>'counter')::bigint
            FROM jsonb_each(coalesce(state->'fields', '{}'::jsonb)) f, jsonb_array_elements(f.value) x
            UNION
            SELECT w.replica, w.counter
            FROM record_writes w
            WHERE w.account_id = account AND w.kind = fieldsync_applied_dots.kind AND w.record_id = record
        ) s
        WHERE counter >= 1 AND replica <> ''
        GROUP BY replica
    ) d
$$;

UPDATE entities
SET state = (state::jsonb || jsonb_build_object('dots', fieldsync_applied_dots(state::jsonb, account_id, 'entity', id)))::text
WHERE NOT (state::jsonb ? 'dots');

UPDATE instances
SET state = (state::jsonb || jsonb_build_object('dots', fieldsync_applied_dots(state::jsonb, account_id, 'instance', id)))::text
WHERE NOT (state::jsonb ? 'dots');

UPDATE org_units
SET state = state || jsonb_build_object('dots', fieldsync_applied_dots(state, account_id, 'orgUnit', id))
WHERE NOT (state ? 'dots');

DROP FUNCTION fieldsync_applied_dots(jsonb, uuid, text, uuid);

ALTER TABLE org_units ALTER COLUMN state SET DEFAULT '{"fields":{},"version":{},"dots":{}}';
