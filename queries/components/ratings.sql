-- Employee ratings per window: a rating counts in the window that holds its
-- period's first day. Scores are 0–100; their mean is exact (a sum over a
-- count).
{% set components = {
    "ratings": "count(*)",
    "score_sum": "sum(r.score)",
} %}
WITH rated AS (
    SELECT v.period AS day, v.score
    {%- for dim in dims %}
        {%- if dim == "salesperson" %}, v.employee_id AS salesperson
        {%- elif dim == "criterion" %}, v.dimension AS criterion
        {%- elif dim == "team" %}, e.team
        {%- else %}, v.{{ dim }}{% endif %}
    {%- endfor %}
    FROM evaluations v
    {%- if "team" in dims %}
    LEFT JOIN employees e ON e.employee_id = v.employee_id
    {%- endif %}
)
SELECT w.window_id{% for dim in dims %}, r.{{ dim }}{% endfor %}
    {%- for name in wanted %},
       {{ components[name] }} AS {{ name }}
    {%- endfor %}
FROM _opskpi_spine w
JOIN rated r ON r.day = w.day
GROUP BY ALL
