-- The monthly report's numbers for $period_start (a month) written by hand
-- in plain DuckDB SQL, as a data engineer would without opskpi: the
-- benchmark's baseline. $first is 24 months before the period (13 months of
-- history plus their last year), $period_end the period's last day.

-- 1. Sales by month: net sales, margin, target, for 13 months and last year.
WITH monthly AS (
    SELECT date_trunc('month', order_date)::DATE AS month, sum(net_amount) AS net, sum(cost_amount) AS cost
    FROM sales WHERE order_date BETWEEN $first AND $period_end GROUP BY 1
), targets AS (
    SELECT period AS month, sum(target_amount) AS target FROM sales_targets WHERE scope = 'company' GROUP BY 1
)
SELECT m.month, m.net, (m.net - m.cost) / nullif(m.net, 0) AS margin,
       lag(m.net) OVER (ORDER BY m.month) AS previous,
       lag(m.net, 12) OVER (ORDER BY m.month) AS last_year,
       t.target
FROM monthly m LEFT JOIN targets t USING (month)
ORDER BY m.month;

-- 2. Market share by month (headline) and by region (this month and last year).
WITH own AS (
    SELECT date_trunc('month', s.order_date)::DATE AS month, s.region, p.category, sum(s.net_amount) AS amount
    FROM sales s JOIN products p USING (sku)
    WHERE s.order_date BETWEEN $first AND $period_end GROUP BY ALL
), cells AS (
    SELECT m.period AS month, m.region, m.category, m.market_amount, coalesce(o.amount, 0) AS own
    FROM market_sizes m LEFT JOIN own o ON o.month = m.period AND o.region = m.region AND o.category = m.category
    WHERE m.period BETWEEN $first AND $period_end
)
SELECT month, region, sum(own) / sum(market_amount) AS share
FROM cells GROUP BY GROUPING SETS ((month), (month, region)) ORDER BY ALL;

WITH rivals AS (
    SELECT period, region, competitor, sum(sales_amount) AS amount FROM competitor_sales
    WHERE period IN ($period_start, $last_year_start) GROUP BY ALL
)
SELECT period, region, max(amount) FROM rivals GROUP BY ALL ORDER BY ALL;

-- 3. Sales by channel and by category, this month and last year, with margin.
SELECT date_trunc('month', order_date)::DATE AS month, channel, sum(net_amount), (sum(net_amount) - sum(cost_amount)) / sum(net_amount)
FROM sales
WHERE order_date BETWEEN $period_start AND $period_end OR order_date BETWEEN $last_year_start AND $last_year_end
GROUP BY ALL ORDER BY ALL;

SELECT date_trunc('month', s.order_date)::DATE AS month, p.category, sum(s.net_amount), (sum(s.net_amount) - sum(s.cost_amount)) / sum(s.net_amount)
FROM sales s JOIN products p USING (sku)
WHERE s.order_date BETWEEN $period_start AND $period_end OR s.order_date BETWEEN $last_year_start AND $last_year_end
GROUP BY ALL ORDER BY ALL;

-- 4. Satisfaction by month.
SELECT date_trunc('month', answered_on)::DATE AS month,
       count(*) FILTER (WHERE csat_score >= 4) / count(csat_score) AS csat,
       avg(csat_score) AS rating,
       100.0 * (count(*) FILTER (WHERE nps_score >= 9) - count(*) FILTER (WHERE nps_score <= 6)) / count(nps_score) AS nps
FROM surveys WHERE answered_on BETWEEN $first AND $period_end GROUP BY 1 ORDER BY 1;

-- 5. Inventory turnover by month (headline) and by category (this month):
-- average of the month-end snapshots opening and closing the month.
WITH stock AS (
    SELECT i.snapshot_date, p.category, sum(i.on_hand_qty * i.unit_cost) AS value
    FROM inventory_snapshots i JOIN products p USING (sku)
    WHERE i.snapshot_date BETWEEN $first - INTERVAL 1 MONTH AND $period_end GROUP BY ALL
), cogs AS (
    SELECT date_trunc('month', s.order_date)::DATE AS month, p.category, sum(s.cost_amount) AS cogs, sum(s.net_amount) AS net
    FROM sales s JOIN products p USING (sku)
    WHERE s.order_date BETWEEN $first AND $period_end GROUP BY ALL
), average AS (
    SELECT date_trunc('month', snapshot_date)::DATE AS month, category,
           (value + lag(value) OVER (PARTITION BY category ORDER BY snapshot_date)) / 2 AS avg_value, value AS closing
    FROM stock
)
SELECT c.month, c.category, c.cogs / a.avg_value AS turnover, a.closing / c.net AS inventory_to_sales
FROM cogs c JOIN average a USING (month, category)
ORDER BY ALL;

-- 6. Customers by month: active, new (first order ever), repeat rate.
WITH firsts AS (
    SELECT customer_id, min(order_date) AS first_day FROM sales WHERE quantity > 0 GROUP BY 1
), lines AS (
    SELECT date_trunc('month', order_date)::DATE AS month, customer_id, order_id
    FROM sales WHERE quantity > 0 AND customer_id IS NOT NULL AND order_date BETWEEN $first AND $period_end
), per_customer AS (
    SELECT month, customer_id, count(DISTINCT order_id) AS orders FROM lines GROUP BY ALL
)
SELECT p.month, count(*) AS active,
       count(*) FILTER (WHERE date_trunc('month', f.first_day) = p.month) AS new,
       count(*) FILTER (WHERE p.orders >= 2) / count(*) AS repeat_rate
FROM per_customer p JOIN firsts f USING (customer_id)
GROUP BY 1 ORDER BY 1;

-- 7. Service by month (Taiwan time, +08:00): complaints per order, response and resolution hours
-- (median and 90th percentile, nearest rank), answered within 24 hours,
-- deliveries by month and by carrier this month: on time, freight per order.
WITH tickets AS (
    SELECT date_trunc('month', CAST(opened_at::TIMESTAMP + INTERVAL 8 HOUR AS DATE))::DATE AS month, kind,
           (epoch_ms(first_response_at) - epoch_ms(opened_at)) // 1000 AS response,
           (epoch_ms(resolved_at) - epoch_ms(opened_at)) // 1000 AS resolution
    FROM service_tickets WHERE CAST(opened_at::TIMESTAMP + INTERVAL 8 HOUR AS DATE) BETWEEN $first AND $period_end
), orders AS (
    SELECT date_trunc('month', order_date)::DATE AS month, count(DISTINCT order_id) AS orders
    FROM sales WHERE quantity > 0 AND order_date BETWEEN $first AND $period_end GROUP BY 1
)
SELECT t.month, count(*) FILTER (WHERE kind = 'complaint') / any_value(o.orders) AS complaint_rate,
       quantile_disc(response, 0.5) / 3600 AS response_median_hours,
       quantile_disc(response, 0.9) / 3600 AS response_p90_hours,
       quantile_disc(resolution, 0.5) / 3600 AS resolution_median_hours,
       quantile_disc(resolution, 0.9) / 3600 AS resolution_p90_hours,
       count(*) FILTER (WHERE response <= 86400) / count(*) AS sla
FROM tickets t JOIN orders o USING (month)
GROUP BY 1 ORDER BY 1;

SELECT date_trunc('month', promised_on)::DATE AS month, carrier,
       count(*) FILTER (WHERE CAST(delivered_at::TIMESTAMP + INTERVAL 8 HOUR AS DATE) <= promised_on) / count(*) AS on_time,
       sum(freight_cost) / count(*) AS freight_per_order
FROM deliveries WHERE promised_on BETWEEN $first AND $period_end
GROUP BY GROUPING SETS ((1), (1, 2)) ORDER BY ALL;

-- 8. Supply chain by month: stock-out rate and sell-through (month-end
-- snapshots), and by supplier: on time, fill, defects, price variance.
WITH positions AS (
    SELECT date_trunc('month', snapshot_date)::DATE AS month,
           count(*) FILTER (WHERE on_hand_qty = 0) / count(*) AS stock_out_rate,
           sum(on_hand_qty) AS closing_units
    FROM inventory_snapshots WHERE snapshot_date BETWEEN $first AND $period_end GROUP BY 1
), sold AS (
    SELECT date_trunc('month', order_date)::DATE AS month, sum(quantity) AS units
    FROM sales WHERE order_date BETWEEN $first AND $period_end GROUP BY 1
)
SELECT month, stock_out_rate, units / (units + closing_units) AS sell_through
FROM positions JOIN sold USING (month) ORDER BY 1;

SELECT date_trunc('month', o.promised_on)::DATE AS month, o.supplier_id,
       count(*) FILTER (WHERE o.received_on <= o.promised_on) / count(*) AS on_time,
       sum(o.qty_received) / sum(o.qty_ordered) AS fill_rate,
       sum(o.qty_rejected) / sum(o.qty_received) AS defect_rate,
       sum(o.qty_received * o.unit_cost) / sum(o.qty_received * p.unit_cost) - 1 AS price_variance
FROM purchase_orders o JOIN products p USING (sku)
WHERE o.promised_on BETWEEN $first AND $period_end
GROUP BY GROUPING SETS ((1), (1, 2)) ORDER BY ALL;

-- 9. Product by month: inspections passed, defects per million, project
-- stages on time, sales from products launched in the last 12 months, by
-- category this month.
SELECT date_trunc('month', inspected_on)::DATE AS month,
       count(*) FILTER (WHERE qty_defective = 0) / count(*) AS pass_rate,
       sum(qty_defective) * 1000000 / sum(qty_inspected) AS dpm
FROM quality_inspections WHERE inspected_on BETWEEN $first AND $period_end
GROUP BY 1 ORDER BY 1;

SELECT date_trunc('month', stage_due_on)::DATE AS month,
       count(*) FILTER (WHERE stage_done_on <= stage_due_on) / count(*) AS on_schedule
FROM product_projects WHERE stage_due_on BETWEEN $first AND $period_end
GROUP BY 1 ORDER BY 1;

SELECT date_trunc('month', s.order_date)::DATE AS month, p.category,
       sum(s.net_amount) FILTER (WHERE p.launch_date > s.order_date - INTERVAL 12 MONTH AND p.launch_date <= s.order_date)
         / sum(s.net_amount) AS new_product_share
FROM sales s JOIN products p USING (sku)
WHERE s.order_date BETWEEN $first AND $period_end
GROUP BY GROUPING SETS ((1), (1, 2)) ORDER BY ALL;

-- 10. The forecast's history: ten years of net sales by month, in total and
-- by category (the forecast itself is arithmetic on these 120 × 8 numbers).
SELECT date_trunc('month', s.order_date)::DATE AS month, p.category, sum(s.net_amount)
FROM sales s JOIN products p USING (sku)
WHERE s.order_date BETWEEN $period_start - INTERVAL 119 MONTH AND $period_end
GROUP BY GROUPING SETS ((1), (1, 2)) ORDER BY ALL;
