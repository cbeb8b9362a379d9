-- About one order in eleven gets an answered survey within two weeks. Online
-- customers are a little harder to please, and late-summer 2026 deliveries in
-- the south went badly.
CREATE OR REPLACE TABLE surveys AS
WITH answered AS (
    SELECT o.order_key, o.order_id, o.customer_id, o.channel, o.region,
           o.order_date + (1 + floor(rnd(o.order_key, 'survey_day') * 14))::INTEGER AS answered_on,
           rnd(o.order_key, 'csat')
               + CASE WHEN o.channel = 'online' THEN 0.05 ELSE 0 END
               + CASE WHEN o.region = 'South' AND o.order_date BETWEEN DATE '2026-07-15' AND DATE '2026-09-15' THEN 0.18 ELSE 0 END
               AS u
    FROM orders o
    WHERE rnd(o.order_key, 'survey') < 0.09
), scored AS (
    SELECT *,
           CASE WHEN u < 0.42 THEN 5 WHEN u < 0.76 THEN 4 WHEN u < 0.88 THEN 3 WHEN u < 0.95 THEN 2 ELSE 1 END AS csat
    FROM answered
    WHERE answered_on <= getvariable('last_day')
)
SELECT 'R' || order_key AS response_id,
       answered_on,
       customer_id,
       order_id,
       channel,
       CASE WHEN rnd(order_key, 'csat_missing') < 0.03 THEN NULL ELSE csat END AS csat_score,
       CASE WHEN rnd(order_key, 'nps_missing') < 0.05 THEN NULL
            ELSE least(10, greatest(0, CASE csat WHEN 5 THEN 8 WHEN 4 THEN 7 WHEN 3 THEN 5 WHEN 2 THEN 3 ELSE 1 END
                                        + floor(rnd(order_key, 'nps') * 4)::INTEGER - 1 + (csat = 5)::INTEGER))
       END AS nps_score
FROM scored;
