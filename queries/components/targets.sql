-- Sales targets per window: each month's target times the share of the
-- month's days the window covers. With no dimension, the company target;
-- with one, the target of that scope (region, channel, store, salesperson).
-- `net_amount`, when asked for (target attainment), is the net sales of the
-- lines dated in the window for the same scope; a scope without a target
-- then has no target, not 0.
WITH covered AS (
    SELECT window_id, date_trunc('month', day)::DATE AS month, count(*) AS days
    FROM _opskpi_spine
    GROUP BY ALL
), targets AS (
    SELECT c.window_id{% if dims %}, t.scope_value AS {{ dims[0] }}{% endif %},
           -- pro rata rounded half away from zero to the cent, exactly (the macro is in src/warehouse.rs)
           sum(_opskpi_pro_rata(t.target_amount, c.days, day(last_day(c.month)))) AS target_amount
    FROM covered c
    JOIN sales_targets t ON t.period = c.month
    WHERE t.scope = '{{ dims[0] if dims else "company" }}'
    {%- if dims | length > 1 %} AND false{% endif %}
    GROUP BY ALL
)
{%- if "net_amount" in wanted %}, sold AS (
    SELECT w.window_id
        {%- for dim in dims %}, {% if dim == "store" %}s.store_id{% elif dim == "salesperson" %}s.salesperson_id{% else %}s.{{ dim }}{% endif %} AS {{ dim }}{% endfor %},
           sum(s.net_amount) AS net_amount
    FROM _opskpi_spine w
    JOIN sales s ON s.order_date = w.day
    GROUP BY ALL
)
SELECT coalesce(s.window_id, t.window_id) AS window_id
    {%- for dim in dims %}, coalesce(s.{{ dim }}, t.{{ dim }}) AS {{ dim }}{% endfor %},
       s.net_amount, t.target_amount
FROM sold s
FULL JOIN targets t ON t.window_id = s.window_id{% for dim in dims %} AND t.{{ dim }} IS NOT DISTINCT FROM s.{{ dim }}{% endfor %}
{%- else %}
SELECT * FROM targets
{%- endif %}
