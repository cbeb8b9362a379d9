-- Orders per day and region follow growth, season and weekday; each order
-- has one to four lines. About one line in thirty is returned later.
CREATE OR REPLACE TABLE order_heads AS
WITH days AS (
    SELECT d::DATE AS day FROM range(getvariable('first_day'), getvariable('last_day') + INTERVAL 1 DAY, INTERVAL 1 DAY) t(d)
), expected AS (
    SELECT d.day, r.region, r.region_no,
           70.0 * getvariable('scale') * r.weight
               * pow(1 + r.yearly_growth, (d.day - getvariable('first_day')) / 365.0)
               * s.factor
               * CASE dayofweek(d.day) WHEN 0 THEN 1.35 WHEN 6 THEN 1.35 WHEN 5 THEN 1.1 ELSE 0.9 END
               -- a weak late summer in 2026 in the south: something to explain in the report
               * CASE WHEN r.region = 'South' AND d.day BETWEEN DATE '2026-08-01' AND DATE '2026-09-30' THEN 0.8 ELSE 1 END
               AS n
    FROM days d JOIN regions r ON true JOIN seasons s ON s.month_no = month(d.day)
), counted AS (
    SELECT day, region, region_no,
           floor(n + rnd(region_no * 100000 + (day - DATE '2000-01-01'), 'count'))::BIGINT AS n
    FROM expected
)
-- The key is unique however many orders a day has: the ten-thousandth and
-- later orders of a region's day (past scale 100 or so) are moved up by
-- 10^12, past every region's range, so that smaller samples keep theirs.
SELECT day, region, region_no, k,
       region_no::BIGINT * 1000000000 + (day - DATE '2000-01-01')::BIGINT * 10000
           + k % 10000 + (k // 10000) * 1000000000000 AS order_key
FROM counted, range(1, n + 1) t(k);

CREATE OR REPLACE TABLE orders AS
WITH region_sizes AS (
    SELECT region, any_value(region_count) AS region_count FROM customers GROUP BY region
), chosen AS (
    -- customers who joined by the order date; newer ones buy a little more often
    SELECT o.*,
           1 + floor(pow(rnd(o.order_key, 'customer'), 0.8)
                     * greatest(1, r.region_count * least(1.0, (o.day - DATE '2019-01-01')
                                    / (getvariable('last_day') - DATE '2019-01-01')::DOUBLE)))::BIGINT AS region_seq
    FROM order_heads o JOIN region_sizes r USING (region)
)
SELECT o.order_key,
       'SO' || strftime(o.day, '%y%m%d') || '-' || o.region_no || lpad(o.k::VARCHAR, 6, '0') AS order_id,
       o.day AS order_date,
       o.region,
       c.customer_id,
       c.segment,
       CASE WHEN c.segment = 'dealer' THEN 'dealer'
            WHEN rnd(o.order_key, 'channel') < 0.55 THEN 'store'
            ELSE 'online' END AS channel,
       1 + floor(pow(rnd(o.order_key, 'lines'), 2) * 4)::INTEGER AS n_lines
FROM chosen o
JOIN customers c ON c.region = o.region AND c.region_seq = o.region_seq;

-- Who sold a store's line: one of the store's staff, by the order's hash.
-- Looked up in a map, not joined: a join here put the sales lines on the
-- hash table's side and ran out of memory at 30M lines.
SET VARIABLE store_seats = (
    SELECT map(list(store_id), list(seats)) FROM (SELECT store_id, count(*) AS seats FROM employees WHERE store_id IS NOT NULL GROUP BY store_id)
);
SET VARIABLE seat_staff = (
    SELECT map(list(store_id || '#' || seat), list(employee_id)) FROM (
        SELECT employee_id, store_id, row_number() OVER (PARTITION BY store_id ORDER BY employee_id) AS seat
        FROM employees WHERE store_id IS NOT NULL)
);
CREATE OR REPLACE TABLE sold AS
WITH category_bounds AS (
    SELECT category_no,
           coalesce(sum(weight) OVER (ORDER BY category_no ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS lo,
           sum(weight) OVER (ORDER BY category_no) AS hi
    FROM categories
), lines AS (
    SELECT o.*, l AS line_no, o.order_key * 10 + l AS line_key,
           rnd(o.order_key * 10 + l, 'category') AS u_category,
           1 + floor(rnd(o.order_key * 10 + l, 'item') * 20)::INTEGER AS item_pick
    -- n_lines is 1 to 4: a cross product with four numbers, filtered,
    -- streams (a lateral range() here is planned as a materialized CTE)
    FROM orders o CROSS JOIN range(1, 5) t(l)
    WHERE l <= o.n_lines
), picked AS (
    -- a SKU not launched yet on the order date gives way to an older one
    SELECT lines.*, b.category_no,
           CASE WHEN lines.order_date < p.launch_date THEN 1 + (lines.item_pick % 16) ELSE lines.item_pick END AS item_no,
           CASE WHEN lines.channel = 'store' THEN 'S-' || upper(left(lines.region, 1)) || (1 + (lines.line_key % 2))
                WHEN lines.channel = 'dealer' THEN 'D-' || upper(left(lines.region, 1))
                WHEN rnd(lines.order_key, 'shop') < 0.6 THEN 'WEB' ELSE 'MALL' END AS store_id
    FROM lines
    JOIN category_bounds b ON lines.u_category >= b.lo AND lines.u_category < b.hi
    JOIN products p ON p.category_no = b.category_no AND p.item_no = lines.item_pick
), priced AS (
    SELECT picked.*, p.sku, p.list_price, p.unit_cost, p.category,
           (CASE WHEN p.category IN ('lighting', 'textiles', 'decor') THEN 1 + floor(pow(rnd(line_key, 'qty'), 2) * 3) ELSE 1 END
            * CASE WHEN channel = 'dealer' THEN 2 + floor(rnd(line_key, 'dealer_qty') * 5) ELSE 1 END)::BIGINT AS quantity,
           CASE segment WHEN 'retail' THEN 0.10 * rnd(line_key, 'discount')
                        WHEN 'trade' THEN 0.10 + 0.08 * rnd(line_key, 'discount')
                        ELSE 0.25 + 0.10 * rnd(line_key, 'discount') END AS discount
    FROM picked
    JOIN products p ON p.category_no = picked.category_no AND p.item_no = picked.item_no
)

    SELECT order_id, line_no, order_date, customer_id, sku, priced.store_id, channel, region,
           getvariable('seat_staff')[priced.store_id || '#' || (1 + (hash(priced.order_key) % getvariable('store_seats')[priced.store_id]))] AS salesperson_id,
           quantity,
           round(quantity * list_price * (1 - discount), 2)::DECIMAL(18,2) AS net_amount,
           round(quantity * unit_cost, 2)::DECIMAL(18,2) AS cost_amount,
           line_key
    FROM priced;

CREATE OR REPLACE TABLE sales AS
SELECT order_id, line_no, order_date, customer_id, sku, store_id, channel, region, salesperson_id,
       quantity, net_amount, cost_amount
FROM sold
UNION ALL
-- returns: the whole line comes back 3 to 30 days later, more often online
SELECT order_id, line_no + 100, order_date + (3 + floor(rnd(line_key, 'return_day') * 28))::INTEGER,
       customer_id, sku, store_id, channel, region, salesperson_id,
       -quantity, -net_amount, -cost_amount
FROM sold
WHERE rnd(line_key, 'return') < CASE WHEN channel = 'online' THEN 0.055 ELSE 0.025 END
  AND order_date + (3 + floor(rnd(line_key, 'return_day') * 28))::INTEGER <= getvariable('last_day');

DROP TABLE sold;
