-- Benchmark data only: multiply the people of a seed_demo database by cloning them (same units, positions,
-- requirements, rules and tags). :copies extra copies of every employee with their assignments, tags, hours-ledger
-- entries and transition logs, under new ids, numbers, e-mails and hashes (the hash chains of the copies do not
-- verify; nothing here is for a real database). The rollup triggers see the inserts like any others.
--
--   psql "$DATABASE_URL" -v copies=9 -f apps/demand/benchmarks/clone_people.sql     # 10,000 → 100,000
BEGIN;
CREATE TEMP TABLE emap ON COMMIT DROP AS
    SELECT e.id AS old, k, nextval(pg_get_serial_sequence('api_employee', 'id')) AS new
    FROM api_employee e CROSS JOIN generate_series(1, :copies) k;
INSERT INTO api_employee (id, state, employee_number, first_name, last_name, email, contracted_weekly_hours, hire_date,
                          termination_date, created_at, updated_at, user_id, org_unit_id)
SELECT m.new, e.state, e.employee_number || '-' || m.k, e.first_name, e.last_name, m.k || '.' || e.email,
       e.contracted_weekly_hours, e.hire_date, e.termination_date, e.created_at, e.updated_at, NULL, e.org_unit_id
FROM api_employee e JOIN emap m ON m.old = e.id;
CREATE TEMP TABLE amap ON COMMIT DROP AS
    SELECT a.id AS old, m.k, m.new AS employee, nextval(pg_get_serial_sequence('assignments_assignment', 'id')) AS new
    FROM assignments_assignment a JOIN emap m ON m.old = a.employee_id;
INSERT INTO assignments_assignment (id, start_date, end_date, weekly_hours, notes, state, created_at, updated_at,
                                    created_by_id, employee_id, position_id)
SELECT am.new, a.start_date, a.end_date, a.weekly_hours, a.notes, a.state, a.created_at, a.updated_at, a.created_by_id,
       am.employee, a.position_id
FROM assignments_assignment a JOIN amap am ON am.old = a.id;
INSERT INTO tags_employeetag (level, valid_from, valid_until, employee_id, tag_id)
SELECT t.level, t.valid_from, t.valid_until, m.new, t.tag_id FROM tags_employeetag t JOIN emap m ON m.old = t.employee_id;
INSERT INTO offer_ledgerentry (kind, adjusts, basis, hours, period_start, period_end, source, reason, actor_email,
                               created_at, request_id, actor_id, assignment_id, clock_event_id, employee_id, reverses_id,
                               prev_hash, hash)
SELECT l.kind, l.adjusts, l.basis, l.hours, l.period_start, l.period_end, l.source, l.reason, l.actor_email,
       l.created_at, l.request_id, l.actor_id, am.new, NULL, m.new, NULL, l.prev_hash, md5(m.k || l.hash)
FROM offer_ledgerentry l JOIN emap m ON m.old = l.employee_id
LEFT JOIN amap am ON am.old = l.assignment_id AND am.k = m.k;
INSERT INTO fsm_employeetransitionlog (transition, source_state, target_state, actor_email, created_at, reason,
                                       effective_date, rule_results, override_reason, request_id, prev_hash, hash,
                                       actor_id, employee_id)
SELECT g.transition, g.source_state, g.target_state, g.actor_email, g.created_at, g.reason, g.effective_date,
       g.rule_results, g.override_reason, g.request_id, g.prev_hash, md5(m.k || g.hash), g.actor_id, m.new
FROM fsm_employeetransitionlog g JOIN emap m ON m.old = g.employee_id;
INSERT INTO assignments_assignmenttransitionlog (transition, source_state, target_state, actor_email, created_at,
                                                 reason, effective_date, rule_results, override_reason, request_id,
                                                 prev_hash, hash, actor_id, assignment_id)
SELECT g.transition, g.source_state, g.target_state, g.actor_email, g.created_at, g.reason, g.effective_date,
       g.rule_results, g.override_reason, g.request_id, g.prev_hash, md5(am.k || g.hash), g.actor_id, am.new
FROM assignments_assignmenttransitionlog g JOIN amap am ON am.old = g.assignment_id;
COMMIT;
ANALYZE;
