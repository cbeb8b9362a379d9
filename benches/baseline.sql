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
