-- Kiosks follow corrections (issue 17): a correction that changes someone's last punch changes what a kiosk's
-- automatic IN/OUT does next. A supervisor adds the OUT someone forgot at noon: at 13:00 the kiosk clocks them IN,
-- not OUT. A supervisor voids a double punch: the kiosk no longer counts it.
--
-- kiosk_last_punches (0030) stays as it was, and kiosks keep calling it for raw punches (it is cheap under load:
-- one index scan). kiosk_effective_last_punches answers for the rare rest: the employees of the kiosk's sites with an
-- approved correction decided since `changed_after`, with their latest punch after the corrections (voids drop a
-- punch, moves change its time, adds count; direction NULL: no punch counts any more), which replaces what the kiosk
-- held; `superseded` lists this kiosk's own punches that a correction voided or moved, which the kiosk stops counting.
-- A first version answered for every employee with a new punch too: under the load test's shift change that made
-- punch -> central p95 ten times slower.
CREATE FUNCTION kiosk_effective_last_punches(for_kiosk bigint, changed_after timestamptz)
RETURNS TABLE (employee_id bigint, direction text, punched_at timestamptz, changed_at timestamptz, corrected boolean,
               superseded uuid[])
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  IF NOT clockface_caller_is_kiosk(for_kiosk) THEN
    RAISE EXCEPTION 'kiosk % is not this login''s kiosk, or is revoked', for_kiosk USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN QUERY
    WITH served AS (
      SELECT k.site FROM kiosks k WHERE k.id = for_kiosk
      UNION SELECT ks.site FROM kiosk_sites ks WHERE ks.kiosk_id = for_kiosk
    ),
    decided AS (
      SELECT c.employee_id, max(d.decided_at) AS at
      FROM correction_decisions d JOIN punch_corrections c ON c.id = d.correction_id
      WHERE d.decided_at > changed_after AND d.approved GROUP BY c.employee_id
    ),
    changed AS (
      SELECT e.id AS employee_id, dc.at, true AS corrected
      FROM decided dc JOIN employees e ON e.id = dc.employee_id
      WHERE e.site IN (SELECT s.site FROM served s)
    ),
    -- Approved corrections of these employees: few, so every lookup below is into a small set.
    approved AS (
      SELECT c.id, c.kind, c.employee_id, c.punch_id, c.direction, c.at
      FROM punch_corrections c JOIN correction_decisions d ON d.correction_id = c.id AND d.approved
      WHERE c.employee_id IN (SELECT ch.employee_id FROM changed ch)
    ),
    -- Each moved punch at its latest approved time (a move of a raw punch, or of one a correction added).
    moved AS (
      SELECT DISTINCT ON (m.punch_id) m.employee_id, m.punch_id, m.at FROM approved m WHERE m.kind = 'move'
      ORDER BY m.punch_id, m.id DESC
    )
    SELECT ch.employee_id, last.direction, last.at, ch.at, ch.corrected,
           ARRAY(SELECT DISTINCT x.punch_id FROM approved x JOIN punches p ON p.id = x.punch_id
                 WHERE x.employee_id = ch.employee_id AND x.kind IN ('void', 'move') AND p.kiosk_id = for_kiosk)
    FROM changed ch
    LEFT JOIN LATERAL (
      SELECT cand.direction, cand.at FROM (
        -- The latest raw punch no correction voided or moved: an index scan from the newest, stopping at the first.
        (SELECT p.direction, p.punched_at AS at FROM punches p
         WHERE p.employee_id = ch.employee_id
           AND NOT EXISTS (SELECT 1 FROM approved x WHERE x.punch_id = p.id AND x.kind IN ('void', 'move'))
         ORDER BY p.punched_at DESC LIMIT 1)
        UNION ALL
        -- Moved punches at their new time, unless voided.
        SELECT coalesce((SELECT p.direction FROM punches p WHERE p.id = mv.punch_id),
                        (SELECT a.direction FROM approved a WHERE a.kind = 'add' AND a.punch_id = mv.punch_id)), mv.at
        FROM moved mv
        WHERE mv.employee_id = ch.employee_id
          AND NOT EXISTS (SELECT 1 FROM approved v WHERE v.kind = 'void' AND v.punch_id = mv.punch_id)
        UNION ALL
        -- Added punches neither moved nor voided.
        SELECT a.direction, a.at FROM approved a
        WHERE a.kind = 'add' AND a.employee_id = ch.employee_id
          AND NOT EXISTS (SELECT 1 FROM approved x WHERE x.punch_id = a.punch_id AND x.kind IN ('void', 'move'))
      ) cand
      -- At one instant an OUT closes a shift before an IN opens the next, as the timesheet engine orders them.
      ORDER BY cand.at DESC, cand.direction = 'in' DESC LIMIT 1
    ) last ON true;
END
$$;
REVOKE ALL ON FUNCTION kiosk_effective_last_punches(bigint, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kiosk_effective_last_punches(bigint, timestamptz) TO {{kiosk}}, {{admin}};

-- The decisions a kiosk's cursor follows.
CREATE INDEX correction_decisions_by_time ON correction_decisions (decided_at);
