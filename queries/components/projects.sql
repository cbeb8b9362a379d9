-- Development projects per window, by the day their current stage is due
-- (projects without a due date are left out). On schedule: the stage was
-- done on or before its due date; a stage not done is behind.
{% set components = {
    "stages_due": "count(*)",
    "stages_on_time": "count(*) FILTER (WHERE p.stage_done_on <= p.stage_due_on)",
} %}
WITH due AS (
    SELECT p.stage_due_on AS day, p.stage_due_on, p.stage_done_on
    {%- for dim in dims %}, p.{{ dim }}{% endfor %}
    FROM product_projects p
    WHERE p.stage_due_on IS NOT NULL
)
SELECT w.window_id{% for dim in dims %}, p.{{ dim }}{% endfor %}
    {%- for name in wanted %},
       {{ components[name] }} AS {{ name }}
    {%- endfor %}
FROM _opskpi_spine w
JOIN due p ON p.day = w.day
GROUP BY ALL
