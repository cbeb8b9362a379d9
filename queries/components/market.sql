-- Own sales against the market, per window. Market data is monthly: a month
-- counts in a window when the window holds all of it (a week or a running
-- month has no market share), and own sales are taken for the same whole
-- months, regions and categories, so both sides of the share cover the same
-- cells.
WITH months AS (
    SELECT window_id, date_trunc('month', day)::DATE AS month
    FROM _opskpi_spine
    GROUP BY ALL
    HAVING min(day) = date_trunc('month', min(day)) AND max(day) = last_day(max(day))
), own AS (
    SELECT date_trunc('month', s.order_date)::DATE AS month, s.region, p.category,
           sum(s.net_amount) AS amount,
           CASE WHEN count(s.quantity) = count(*) THEN sum(s.quantity) END AS units
    FROM sales s JOIN products p ON p.sku = s.sku
    WHERE date_trunc('month', s.order_date)::DATE IN (SELECT month FROM months)
    GROUP BY ALL
), cells AS (
    SELECT w.window_id, m.region, m.category, m.market_amount, m.market_units,
           coalesce(o.amount, 0) AS own_amount, coalesce(o.units, 0) AS own_units
    FROM months w
    JOIN market_sizes m ON m.period = w.month
    LEFT JOIN own o ON o.month = m.period AND o.region = m.region AND o.category = m.category
), rivals AS (
    SELECT w.window_id{% for dim in dims %}, c.{{ dim }}{% endfor %}, c.competitor, sum(c.sales_amount) AS amount
    FROM months w
    JOIN competitor_sales c ON c.period = w.month
    GROUP BY ALL
), top_rival AS (
    SELECT window_id{% for dim in dims %}, {{ dim }}{% endfor %}, max(amount) AS top_competitor_amount
    FROM rivals
    GROUP BY ALL
), shares AS (
    SELECT window_id{% for dim in dims %}, {{ dim }}{% endfor %},
           sum(own_amount) AS own_amount,
           sum(own_units) AS own_units,
           sum(market_amount) AS market_amount,
           -- volume share only where every cell has market units
           CASE WHEN count(market_units) = count(*) THEN sum(market_units) END AS market_units
    FROM cells
    GROUP BY ALL
)
SELECT s.*, t.top_competitor_amount
FROM shares s
LEFT JOIN top_rival t ON t.window_id = s.window_id{% for dim in dims %} AND t.{{ dim }} IS NOT DISTINCT FROM s.{{ dim }}{% endfor %}
