-- Deliveries per window: a delivery counts on the day it was promised. On
-- time = delivered (company time, `offset_seconds` east of UTC) on or before
-- the promised date; one not delivered is not on time; a cancelled one is
-- not due. Freight is given only
-- when every delivery has it (a missing cost is not 0). Region is the
-- order's, from its sales lines.
{% set components = {
    "due": "count(*)",
    "delivered": "count(d.delivered_day)",
    "on_time": "count(*) FILTER (WHERE d.delivered_day <= d.promised_on)",
    "freight": "CASE WHEN count(d.freight_cost) = count(*) THEN sum(d.freight_cost) END",
} %}
WITH due AS (
    SELECT d.promised_on AS day, d.promised_on, d.freight_cost,
           CAST(d.delivered_at::TIMESTAMP + INTERVAL '{{ offset_seconds }}' SECOND AS DATE) AS delivered_day
    {%- for dim in dims %}
        {%- if dim == "region" %}, o.region
        {%- else %}, d.{{ dim }}{% endif %}
    {%- endfor %}
    FROM deliveries d
    {%- if "region" in dims %}
    LEFT JOIN (SELECT order_id, min(region) AS region FROM sales GROUP BY order_id) o ON o.order_id = d.order_id
    {%- endif %}
    WHERE d.status IS DISTINCT FROM 'cancelled'
)
SELECT w.window_id{% for dim in dims %}, d.{{ dim }}{% endfor %}
    {%- for name in wanted %},
       {{ components[name] }} AS {{ name }}
    {%- endfor %}
FROM _opskpi_spine w
JOIN due d ON d.day = w.day
GROUP BY ALL
