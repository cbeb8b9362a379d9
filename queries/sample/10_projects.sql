-- Product development: one project per SKU launched since 2024, its launch
-- stage due on the planned date (a third of launches slip by up to four
-- weeks), and one project per category in flight for 2027, its current
-- stage due in the autumn of 2026.
CREATE OR REPLACE TABLE product_projects AS
WITH launched AS (
    SELECT 'PJ-' || sku AS project_id, name, category, 'launch' AS stage,
           launch_date - CASE WHEN rnd(sku, 'slip') < 0.33 THEN (1 + floor(rnd(sku, 'slip_days') * 28))::INTEGER ELSE 0 END AS planned,
           launch_date
    FROM products
    WHERE launch_date >= DATE '2024-01-01' AND launch_date <= getvariable('last_day')
), in_flight AS (
    SELECT 'PJ-' || upper(left(category, 3)) || '-2027' AS project_id,
           'New ' || category || ' range' AS name, category,
           CASE WHEN category_no % 2 = 0 THEN 'prototype' ELSE 'sourcing' END AS stage,
           DATE '2026-09-01' + (category_no * 9)::INTEGER AS due,
           DATE '2027-03-01' + (category_no * 7)::INTEGER AS planned
    FROM categories
)
SELECT project_id, name, category, stage, planned AS stage_due_on, launch_date AS stage_done_on,
       planned AS planned_launch_on, launch_date AS launched_on
FROM launched
UNION ALL
SELECT project_id, name, category, stage, due,
       CASE WHEN due + 10 <= getvariable('last_day') AND rnd(project_id, 'done') < 0.7
            THEN due + (floor(rnd(project_id, 'done_days') * 14) - 4)::INTEGER END,
       planned, NULL
FROM in_flight;
