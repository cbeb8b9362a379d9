-- description: Deliveries in a period that arrived after the promised date, or have not arrived and are overdue (cancelled ones are not due), by carrier; empty until deliveries are loaded.
-- param period: period          The period of the promised dates: 2026-10, 2026-Q3 …
SELECT carrier, order_id, promised_on,
       company_day(delivered_at) AS delivered_on,
       date_diff('day', promised_on, coalesce(company_day(delivered_at), $period_end)) AS days_late,
       delivered_at IS NULL AS not_delivered
FROM deliveries
WHERE promised_on BETWEEN $period_start AND $period_end
  AND status IS DISTINCT FROM 'cancelled'
  AND ((delivered_at IS NULL AND promised_on < $period_end)
       OR company_day(delivered_at) > promised_on)
ORDER BY days_late DESC, carrier, order_id
