-- Month-end stock per SKU and location (two distribution centres and the own
-- stores), sized as the month's units sold times the category's months of
-- cover; a location keeps at least one of what it stocks. The first snapshot
-- is the day before the first sales day, so the first month has an opening
-- stock. Stock-outs: one position in fifty is empty at random, and sofas ran
-- out everywhere at the end of the fourth month before the last (a supplier
-- missed its deliveries; 08_service.sql makes the complaints follow).
CREATE OR REPLACE TABLE stock_out AS
SELECT 'sofas' AS category,
       date_trunc('month', getvariable('last_day') - INTERVAL 4 MONTH)::DATE AS month_start;

CREATE OR REPLACE TABLE inventory_snapshots AS
WITH month_ends AS (
    SELECT (d + INTERVAL 1 MONTH - INTERVAL 1 DAY)::DATE AS snapshot_date, d::DATE AS month_start
    FROM range(getvariable('first_day') - INTERVAL 1 MONTH, getvariable('last_day'), INTERVAL 1 MONTH) t(d)
), units AS (
    SELECT sku, date_trunc('month', order_date)::DATE AS month_start, sum(quantity) FILTER (WHERE quantity > 0) AS units
    FROM sales GROUP BY ALL
), locations AS (
    SELECT * FROM (VALUES ('DC-NORTH', 0.35), ('DC-SOUTH', 0.25)) t(location_id, share)
    UNION ALL
    SELECT store_id, 0.05 FROM stores WHERE channel = 'store'
)
SELECT m.snapshot_date, p.sku, l.location_id,
       CASE WHEN m.month_start = (SELECT month_start FROM stock_out)
                 AND p.category = (SELECT category FROM stock_out) THEN 0
            WHEN rnd(hash(p.sku, l.location_id), m.snapshot_date::VARCHAR || 'empty') < 0.02 THEN 0
            ELSE greatest(1, round(coalesce(u.units, nu.units, 2) * c.cover_months * l.share
                 * (0.7 + 0.6 * rnd(hash(p.sku, l.location_id), m.snapshot_date::VARCHAR))))
       END::BIGINT AS on_hand_qty,
       p.unit_cost
FROM month_ends m
CROSS JOIN products p
JOIN categories c USING (category_no)
CROSS JOIN locations l
-- stock at a month end covers the coming month
LEFT JOIN units u ON u.sku = p.sku AND u.month_start = (m.month_start + INTERVAL 1 MONTH)::DATE
LEFT JOIN units nu ON nu.sku = p.sku AND nu.month_start = m.month_start
WHERE p.launch_date <= m.snapshot_date + 60;
