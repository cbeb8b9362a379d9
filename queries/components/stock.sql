-- Stock positions per window. Every SKU-location snapshot dated in the
-- window counts once for the stock-out rate (out: nothing on hand). Units
-- on hand at the close are those of the last snapshot on or before the
-- window's end; units sold are the window's sold units net of returns
-- (given only when every line has a quantity).
-- Input: _opskpi_windows(window_id, start_date, end_date, days).
{% set components = {
    "positions": "count(*)",
    "out_of_stock": "count(*) FILTER (WHERE s.on_hand_qty <= 0)",
} %}
WITH stock AS (
    SELECT i.snapshot_date AS day, i.on_hand_qty
    {%- for dim in dims %}{% if dim == "sku" %}, i.sku{% else %}, p.{{ dim }}{% endif %}{% endfor %}
    FROM inventory_snapshots i
    {%- if "category" in dims or "subcategory" in dims %}
    LEFT JOIN products p ON p.sku = i.sku
    {%- endif %}
), positions AS (
    SELECT w.window_id{% for dim in dims %}, s.{{ dim }}{% endfor %}
        {%- for name in wanted if name in components %},
           {{ components[name] }} AS {{ name }}
        {%- endfor %}
    FROM _opskpi_spine w
    JOIN stock s ON s.day = w.day
    GROUP BY ALL
), closing AS (
    SELECT w.window_id{% for dim in dims %}, s.{{ dim }}{% endfor %}, sum(s.on_hand_qty) AS closing_units
    FROM _opskpi_windows w
    JOIN stock s ON s.day = (SELECT max(day) FROM stock WHERE day <= w.end_date)
    GROUP BY ALL
), sold AS (
    SELECT w.window_id{% for dim in dims %}, {% if dim == "sku" %}x.sku{% else %}p.{{ dim }}{% endif %}{% endfor %},
           CASE WHEN count(x.quantity) = count(*) THEN sum(x.quantity) END AS units_sold
    FROM _opskpi_spine w
    JOIN sales x ON x.order_date = w.day
    {%- if "category" in dims or "subcategory" in dims %}
    LEFT JOIN products p ON p.sku = x.sku
    {%- endif %}
    GROUP BY ALL
), keys AS (
    SELECT window_id{% for dim in dims %}, {{ dim }}{% endfor %} FROM positions
    UNION SELECT window_id{% for dim in dims %}, {{ dim }}{% endfor %} FROM closing
    UNION SELECT window_id{% for dim in dims %}, {{ dim }}{% endfor %} FROM sold
)
SELECT k.window_id{% for dim in dims %}, k.{{ dim }}{% endfor %}
    {%- for name in wanted if name in components %}, p.{{ name }}{% endfor %}
    {%- if "closing_units" in wanted %}, c.closing_units{% endif %}
    {%- if "units_sold" in wanted %}, s.units_sold{% endif %}
FROM keys k
LEFT JOIN positions p ON p.window_id = k.window_id{% for dim in dims %} AND p.{{ dim }} IS NOT DISTINCT FROM k.{{ dim }}{% endfor %}
LEFT JOIN closing c ON c.window_id = k.window_id{% for dim in dims %} AND c.{{ dim }} IS NOT DISTINCT FROM k.{{ dim }}{% endfor %}
LEFT JOIN sold s ON s.window_id = k.window_id{% for dim in dims %} AND s.{{ dim }} IS NOT DISTINCT FROM k.{{ dim }}{% endfor %}
