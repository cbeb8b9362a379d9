-- Suppliers, purchase orders and inspections. Two suppliers per category
-- share its SKUs (odd and even items). Each month's units of a SKU are
-- ordered 15 days before the month for its 6th day; 8 % of lines come
-- late, 5 % short. Defects run at about 1 %, except at Sable Works
-- (storage), whose rejects drift from 1 % in 2023 up to about 6 % by late
-- 2026. Every received line is inspected on arrival; each category gets one
-- final inspection a month.
CREATE OR REPLACE TABLE suppliers AS
SELECT 'SUP' || lpad((2 * category_no - 1 + s)::VARCHAR, 2, '0') AS supplier_id,
       CASE WHEN category = 'storage' AND s = 1 THEN 'Sable Works'
            ELSE upper(left(category, 1)) || substr(category, 2) || CASE s WHEN 0 THEN ' Makers' ELSE ' Trading' END END AS name,
       category, category_no, s
FROM categories, range(0, 2) t(s);

CREATE OR REPLACE TABLE supply_lines AS
WITH sold AS (
    SELECT s.sku, date_trunc('month', s.order_date)::DATE AS month, sum(s.quantity) AS units
    FROM sales s
    WHERE s.quantity > 0
    GROUP BY ALL
), monthly AS (
    -- the month after the last is ordered too, as much as the last sold
    SELECT * FROM sold
    UNION ALL
    SELECT sku, (month + INTERVAL 1 MONTH)::DATE, units FROM sold
    WHERE month = (SELECT max(month) FROM sold)
), lines AS (
    SELECT m.sku, m.month, m.units, p.unit_cost, p.category,
           su.supplier_id, su.name AS supplier_name,
           m.sku || strftime(m.month, '%Y%m') AS k,
           m.month - 15 AS ordered_on,
           m.month + 5 AS promised_on
    FROM monthly m
    JOIN products p ON p.sku = m.sku
    JOIN suppliers su ON su.category_no = p.category_no AND su.s = p.item_no % 2
)
SELECT *,
       CASE WHEN rnd(k, 'late') < 0.08 THEN promised_on + (1 + floor(rnd(k, 'delay') * 10))::INTEGER
            ELSE promised_on - floor(rnd(k, 'early') * 4)::INTEGER END AS arrives_on,
       CASE WHEN rnd(k, 'short') < 0.05 THEN greatest(0, floor(units * (0.8 + rnd(k, 'short_by') * 0.15)))::BIGINT
            ELSE units END AS units_delivered,
       CASE WHEN supplier_name = 'Sable Works'
            THEN 0.01 + 0.05 * greatest(0, (ordered_on - DATE '2023-01-01') / (DATE '2026-10-31' - DATE '2023-01-01'))
            ELSE 0.005 + rnd(supplier_id, 'quality') * 0.01 END AS defect_rate
FROM lines;

CREATE OR REPLACE TABLE purchase_orders AS
SELECT 'PO' || strftime(month, '%y%m') || '-' || supplier_id AS po_id,
       row_number() OVER (PARTITION BY month, supplier_id ORDER BY sku) AS line_no,
       supplier_id, sku, ordered_on, promised_on,
       CASE WHEN arrives_on <= getvariable('last_day') THEN arrives_on END AS received_on,
       units AS qty_ordered,
       CASE WHEN arrives_on <= getvariable('last_day') THEN units_delivered END AS qty_received,
       CASE WHEN arrives_on <= getvariable('last_day')
            THEN floor(units_delivered * defect_rate + rnd(k, 'reject'))::BIGINT END AS qty_rejected,
       CAST(unit_cost * (0.97 + rnd(k, 'price') * 0.07) AS DECIMAL(18,4)) AS unit_cost
FROM supply_lines
WHERE ordered_on <= getvariable('last_day');

CREATE OR REPLACE TABLE quality_inspections AS
SELECT 'IN-' || o.po_id || '-' || o.line_no AS inspection_id,
       o.received_on AS inspected_on, o.sku, o.supplier_id, 'incoming' AS stage,
       o.qty_received AS qty_inspected, o.qty_rejected AS qty_defective
FROM purchase_orders o
WHERE o.received_on IS NOT NULL AND o.qty_received > 0
UNION ALL
SELECT 'FI-' || strftime(m.month, '%y%m') || '-' || c.category AS inspection_id,
       last_day(m.month) AS inspected_on, NULL AS sku, NULL AS supplier_id, 'final' AS stage,
       (20 + floor(rnd(c.category || strftime(m.month, '%Y%m'), 'final_n') * 30))::BIGINT AS qty_inspected,
       (CASE WHEN rnd(c.category || strftime(m.month, '%Y%m'), 'final_fail') < 0.1 THEN 1 ELSE 0 END)::BIGINT AS qty_defective
FROM (SELECT DISTINCT date_trunc('month', order_date)::DATE AS month FROM sales) m, categories c
WHERE last_day(m.month) <= getvariable('last_day');

DROP TABLE supply_lines;
