-- Sales targets per window: each month's target times the share of the
-- month's days the window covers. With no dimension, the company target;
-- with one, the target of that scope (region, channel, store, salesperson).
WITH covered AS (
    SELECT window_id, date_trunc('month', day)::DATE AS month, count(*) AS days
    FROM _opskpi_spine
    GROUP BY ALL
)
SELECT c.window_id{% if dims %}, t.scope_value AS {{ dims[0] }}{% endif %},
       -- pro rata rounded half away from zero to the cent, exactly (the macro is in src/warehouse.rs)
       sum(_opskpi_pro_rata(t.target_amount, c.days, day(last_day(c.month)))) AS target_amount
FROM covered c
JOIN sales_targets t ON t.period = c.month
WHERE t.scope = '{{ dims[0] if dims else "company" }}'
{%- if dims | length > 1 %} AND false{% endif %}
GROUP BY ALL
