-- Sales components per window and dimension values.
-- Input: _opskpi_spine(window_id, day). `dims` holds validated dimension
-- names, `wanted` the components to compute (the others are left out: a
-- distinct count is not free).
{% set components = {
    "net_amount": "sum(l.net_amount)",
    "gross_amount": "coalesce(sum(l.net_amount) FILTER (WHERE l.quantity > 0), 0)",
    "returned_amount": "coalesce(-sum(l.net_amount) FILTER (WHERE l.quantity < 0), 0)",
    "cost_amount": "sum(l.cost_amount)",
    "units": "sum(l.quantity)",
    "orders": "count(DISTINCT l.order_id) FILTER (WHERE l.quantity > 0)",
    "lines": "count(*)",
} %}
WITH lines AS (
    SELECT s.order_date AS day, s.order_id, s.quantity, s.net_amount, s.cost_amount
    {%- for dim in dims %}
        {%- if dim == "store" %}, s.store_id AS store
        {%- elif dim == "salesperson" %}, s.salesperson_id AS salesperson
        {%- elif dim in ["category", "subcategory"] %}, p.{{ dim }}
        {%- elif dim == "segment" %}, c.segment
        {%- else %}, s.{{ dim }}{% endif %}
    {%- endfor %}
    FROM sales s
    {%- if "category" in dims or "subcategory" in dims %}
    LEFT JOIN products p ON p.sku = s.sku
    {%- endif %}
    {%- if "segment" in dims %}
    LEFT JOIN customers c ON c.customer_id = s.customer_id
    {%- endif %}
)
SELECT w.window_id{% for dim in dims %}, l.{{ dim }}{% endfor %}
    {%- for name in wanted %},
       {{ components[name] }} AS {{ name }}
    {%- endfor %}
FROM _opskpi_spine w
JOIN lines l ON l.day = w.day
GROUP BY ALL
