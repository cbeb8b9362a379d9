-- Purchase order lines per window, by the day they were promised (lines
-- without a promised date are left out). On time: received on or before the
-- promised date; a line not received is not on time and has received
-- nothing. Quantities received and rejected are given when the purchase
-- orders have them at all (a column no source had is missing, not 0). Price variance compares what the
-- received quantity cost with the products' standard unit cost, over lines
-- that have both.
{% set components = {
    "lines_due": "count(*)",
    "received_on_time": "count(*) FILTER (WHERE o.received_on <= o.promised_on)",
    "qty_ordered": "sum(o.qty_ordered)",
    "qty_received": "CASE WHEN (SELECT count(qty_received) > 0 FROM purchase_orders) THEN sum(coalesce(o.qty_received, 0)) END",
    "qty_rejected": "CASE WHEN (SELECT count(qty_rejected) > 0 FROM purchase_orders) THEN sum(coalesce(o.qty_rejected, 0)) END",
    "cost_actual": "sum(o.qty_received * o.unit_cost) FILTER (WHERE o.unit_cost IS NOT NULL AND o.standard_cost IS NOT NULL)",
    "cost_standard": "sum(o.qty_received * o.standard_cost) FILTER (WHERE o.unit_cost IS NOT NULL AND o.standard_cost IS NOT NULL)",
} %}
WITH lines AS (
    SELECT o.promised_on AS day, o.promised_on, o.received_on, o.qty_ordered, o.qty_received,
           o.qty_rejected, o.unit_cost, p.unit_cost AS standard_cost
    {%- for dim in dims %}
        {%- if dim == "supplier" %}, o.supplier_id AS supplier
        {%- else %}, p.{{ dim }}{% endif %}
    {%- endfor %}
    FROM purchase_orders o
    LEFT JOIN products p ON p.sku = o.sku
    WHERE o.promised_on IS NOT NULL
)
SELECT w.window_id{% for dim in dims %}, o.{{ dim }}{% endfor %}
    {%- for name in wanted %},
       {{ components[name] }} AS {{ name }}
    {%- endfor %}
FROM _opskpi_spine w
JOIN lines o ON o.day = w.day
GROUP BY ALL
