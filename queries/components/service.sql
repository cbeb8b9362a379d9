-- Service tickets per window and dimension values. A ticket counts on the
-- day it was opened, in company time (`offset_seconds` east of UTC).
-- Durations are whole seconds from opening to the first response and to the
-- resolution; a ticket without one has no duration (it is not 0). Medians and
-- 90th percentiles are by nearest rank — percentile_disc, the ⌈q × n⌉-th
-- smallest of the n durations (the smallest that at least a share q of them
-- do not exceed) — so each is an observed duration, exact, never
-- interpolated (tests/indicators.rs pins the rank; Spark returns it as a
-- double, exact for whole seconds, hence the cast).
-- Orders (the complaint rate's base) are the distinct sold orders of the same
-- window and region or segment; by contact channel there is no such base.
{% set components = {
    "tickets": "count(t.ticket_id)",
    "complaints": "count(t.ticket_id) FILTER (WHERE t.kind = 'complaint')",
    "responded": "count(t.response_seconds)",
    "responded_in_sla": "count(t.response_seconds) FILTER (WHERE t.response_seconds <= 86400)",
    "response_median_seconds": "CAST(percentile_disc(0.5) WITHIN GROUP (ORDER BY t.response_seconds) AS BIGINT)",
    "response_p90_seconds": "CAST(percentile_disc(0.9) WITHIN GROUP (ORDER BY t.response_seconds) AS BIGINT)",
    "resolved": "count(t.resolution_seconds)",
    "resolution_median_seconds": "CAST(percentile_disc(0.5) WITHIN GROUP (ORDER BY t.resolution_seconds) AS BIGINT)",
    "resolution_p90_seconds": "CAST(percentile_disc(0.9) WITHIN GROUP (ORDER BY t.resolution_seconds) AS BIGINT)",
} %}
WITH tickets AS (
    SELECT CAST(t.opened_at::TIMESTAMP + INTERVAL '{{ offset_seconds }}' SECOND AS DATE) AS day,
           t.ticket_id, t.kind,
           _opskpi_seconds_between(t.opened_at, t.first_response_at) AS response_seconds,
           _opskpi_seconds_between(t.opened_at, t.resolved_at) AS resolution_seconds
    {%- for dim in dims %}
        {%- if dim == "contact_channel" %}, t.channel AS contact_channel
        {%- else %}, c.{{ dim }}{% endif %}
    {%- endfor %}
    FROM service_tickets t
    {%- if "region" in dims or "segment" in dims %}
    LEFT JOIN customers c ON c.customer_id = t.customer_id
    {%- endif %}
),
counted AS (
    SELECT w.window_id{% for dim in dims %}, t.{{ dim }}{% endfor %}
        {%- for name in wanted if name != "orders" %},
           {{ components[name] }} AS {{ name }}
        {%- endfor %}
    FROM _opskpi_spine w
    JOIN tickets t ON t.day = w.day
    GROUP BY ALL
)
{%- if "orders" in wanted and "contact_channel" not in dims %},
orders AS (
    SELECT w.window_id{% for dim in dims %}, {% if dim == "region" %}s.region{% else %}c.segment{% endif %} AS {{ dim }}{% endfor %},
           count(DISTINCT s.order_id) FILTER (WHERE coalesce(s.quantity > 0, s.net_amount > 0)) AS orders
    FROM _opskpi_spine w
    JOIN sales s ON s.order_date = w.day
    {%- if "segment" in dims %}
    LEFT JOIN customers c ON c.customer_id = s.customer_id
    {%- endif %}
    GROUP BY ALL
),
-- A window with orders and no ticket has 0 complaints, when tickets were
-- loaded at all; without any, the counts are missing, not 0.
loaded AS (SELECT EXISTS (SELECT 1 FROM service_tickets) AS present)
SELECT coalesce(k.window_id, o.window_id) AS window_id
    {%- for dim in dims %}, coalesce(k.{{ dim }}, o.{{ dim }}) AS {{ dim }}{% endfor %}
    {%- for name in wanted if name != "orders" %},
       {% if name in ["tickets", "complaints", "responded", "responded_in_sla", "resolved"] %}CASE WHEN (SELECT present FROM loaded) THEN coalesce(k.{{ name }}, 0) END{% else %}k.{{ name }}{% endif %} AS {{ name }}
    {%- endfor %},
       o.orders
FROM counted k
FULL JOIN orders o ON o.window_id = k.window_id{% for dim in dims %} AND o.{{ dim }} IS NOT DISTINCT FROM k.{{ dim }}{% endfor %}
{%- else %}
SELECT *{% if "orders" in wanted %}, NULL::BIGINT AS orders{% endif %} FROM counted
{%- endif %}
