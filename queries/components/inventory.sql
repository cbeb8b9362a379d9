-- Inventory turnover components per window. Values over a column a source
-- did not provide (unit cost, cost amount) are given only when complete. The opening snapshot is the
-- last snapshot date before the window; the average inventory is the mean of
-- the snapshot dates from the opening to the last one in the window (only
-- those in the window when there is no opening). The closing value is the
-- last snapshot on or before the window's end, and so are the units on hand
-- at the close. For the stock-out rate, every SKU-location snapshot dated in
-- the window counts once (out: nothing on hand); units sold are the window's
-- sold units net of returns (given only when every line has a quantity).
-- Input: _opskpi_windows(window_id, start_date, end_date, days).
WITH stock AS (
    SELECT i.snapshot_date AS day, i.on_hand_qty, i.on_hand_qty * i.unit_cost AS value
    {%- for dim in dims %}{% if dim == "sku" %}, i.sku{% else %}, p.{{ dim }}{% endif %}{% endfor %}
    FROM inventory_snapshots i
    {%- if "category" in dims or "subcategory" in dims %}
    LEFT JOIN products p ON p.sku = i.sku
    {%- endif %}
), dates AS (
    SELECT DISTINCT day FROM stock
), bounds AS (
    -- a join and a conditional max rather than correlated subqueries: the
    -- same text runs on DuckDB and Spark
    SELECT w.window_id, w.start_date, w.end_date,
           max(CASE WHEN d.day < w.start_date THEN d.day END) AS opening,
           max(d.day) AS closing
    FROM _opskpi_windows w
    LEFT JOIN dates d ON d.day <= w.end_date
    GROUP BY w.window_id, w.start_date, w.end_date
), counted AS (
    SELECT b.window_id, d.day
    FROM bounds b
    JOIN dates d ON d.day >= coalesce(b.opening, b.start_date) AND d.day <= b.end_date
), held AS (
    SELECT c.window_id{% for dim in dims %}, s.{{ dim }}{% endfor %},
           CASE WHEN count(s.value) = count(*) THEN sum(s.value) END AS inventory_value_sum
    FROM counted c JOIN stock s ON s.day = c.day
    GROUP BY ALL
), positions AS (
    SELECT w.window_id{% for dim in dims %}, s.{{ dim }}{% endfor %},
           count(*) AS positions, count(*) FILTER (WHERE s.on_hand_qty <= 0) AS out_of_stock
    FROM _opskpi_spine w JOIN stock s ON s.day = w.day
    GROUP BY ALL
), snapshot_counts AS (
    SELECT window_id, count(*) AS snapshots FROM counted GROUP BY ALL
), closing AS (
    SELECT b.window_id{% for dim in dims %}, s.{{ dim }}{% endfor %},
           CASE WHEN count(s.value) = count(*) THEN sum(s.value) END AS closing_value,
           sum(s.on_hand_qty) AS closing_units
    FROM bounds b JOIN stock s ON s.day = b.closing
    GROUP BY ALL
), sold AS (
    SELECT w.window_id{% for dim in dims %}, {% if dim == "sku" %}x.sku{% else %}p.{{ dim }}{% endif %}{% endfor %},
           CASE WHEN count(x.cost_amount) = count(*) THEN sum(x.cost_amount) END AS cogs,
           sum(x.net_amount) AS net_sales,
           CASE WHEN count(x.quantity) = count(*) THEN sum(x.quantity) END AS units_sold
    FROM _opskpi_spine w
    JOIN sales x ON x.order_date = w.day
    {%- if "category" in dims or "subcategory" in dims %}
    LEFT JOIN products p ON p.sku = x.sku
    {%- endif %}
    GROUP BY ALL
)
SELECT coalesce(h.window_id, s.window_id) AS window_id
       {%- for dim in dims %}, coalesce(h.{{ dim }}, s.{{ dim }}) AS {{ dim }}{% endfor %},
       s.cogs, h.inventory_value_sum, n.snapshots, c.closing_value, s.net_sales,
       p.positions, p.out_of_stock, c.closing_units, s.units_sold
FROM held h
FULL JOIN sold s ON s.window_id = h.window_id{% for dim in dims %} AND s.{{ dim }} IS NOT DISTINCT FROM h.{{ dim }}{% endfor %}
LEFT JOIN snapshot_counts n ON n.window_id = coalesce(h.window_id, s.window_id)
LEFT JOIN closing c ON c.window_id = coalesce(h.window_id, s.window_id){% for dim in dims %} AND c.{{ dim }} IS NOT DISTINCT FROM coalesce(h.{{ dim }}, s.{{ dim }}){% endfor %}
LEFT JOIN positions p ON p.window_id = coalesce(h.window_id, s.window_id){% for dim in dims %} AND p.{{ dim }} IS NOT DISTINCT FROM coalesce(h.{{ dim }}, s.{{ dim }}){% endfor %}
