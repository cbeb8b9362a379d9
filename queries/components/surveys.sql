-- Survey answers per window: CSAT on 1-5 (satisfied = 4 or 5), NPS on 0-10
-- (promoters 9-10, detractors 0-6). A missing score is not an answer. By
-- salesperson, an answer counts for the salesperson of its order (the first
-- by id when an order has several).
{% set components = {
    "csat_answers": "count(a.csat_score)",
    "csat_satisfied": "count(*) FILTER (WHERE a.csat_score >= 4)",
    "csat_points": "coalesce(sum(a.csat_score), 0)",
    "nps_answers": "count(a.nps_score)",
    "promoters": "count(*) FILTER (WHERE a.nps_score >= 9)",
    "detractors": "count(*) FILTER (WHERE a.nps_score <= 6)",
} %}
WITH answers AS (
    SELECT a.answered_on AS day, a.csat_score, a.nps_score
    {%- for dim in dims %}
        {%- if dim == "channel" %}, a.channel
        {%- elif dim == "salesperson" %}, o.salesperson
        {%- else %}, c.{{ dim }}{% endif %}
    {%- endfor %}
    FROM surveys a
    {%- if "region" in dims or "segment" in dims %}
    LEFT JOIN customers c ON c.customer_id = a.customer_id
    {%- endif %}
    {%- if "salesperson" in dims %}
    LEFT JOIN (SELECT order_id, min(salesperson_id) AS salesperson
               FROM sales WHERE quantity > 0 GROUP BY order_id) o ON o.order_id = a.order_id
    {%- endif %}
)
SELECT w.window_id{% for dim in dims %}, a.{{ dim }}{% endfor %}
    {%- for name in wanted %},
       {{ components[name] }} AS {{ name }}
    {%- endfor %}
FROM _opskpi_spine w
JOIN answers a ON a.day = w.day
GROUP BY ALL
