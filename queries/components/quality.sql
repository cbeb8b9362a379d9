-- Quality inspections per window, by the day of the inspection. An
-- inspection passes when it found no defective unit.
{% set components = {
    "inspections": "count(*)",
    "inspections_passed": "count(*) FILTER (WHERE i.qty_defective = 0)",
    "qty_inspected": "sum(i.qty_inspected)",
    "qty_defective": "sum(i.qty_defective)",
} %}
WITH inspected AS (
    SELECT i.inspected_on AS day, i.qty_inspected, i.qty_defective
    {%- for dim in dims %}
        {%- if dim == "supplier" %}, i.supplier_id AS supplier
        {%- elif dim == "stage" %}, i.stage
        {%- else %}, p.{{ dim }}{% endif %}
    {%- endfor %}
    FROM quality_inspections i
    {%- if "category" in dims %}
    LEFT JOIN products p ON p.sku = i.sku
    {%- endif %}
)
SELECT w.window_id{% for dim in dims %}, i.{{ dim }}{% endfor %}
    {%- for name in wanted %},
       {{ components[name] }} AS {{ name }}
    {%- endfor %}
FROM _opskpi_spine w
JOIN inspected i ON i.day = w.day
GROUP BY ALL
