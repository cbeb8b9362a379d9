-- Sales components per window and dimension values.
-- Input: _opskpi_spine(window_id, day). `dims` holds validated dimension
-- names, `wanted` the components to compute (the others are left out: a
-- distinct count is not free).
-- A column a source did not provide is NULL: a sum over it is given only
-- when every line has it, so gross margin without costs is n/a, not 100 %.
-- A line is a return by its negative quantity, or, without quantities, by
-- its negative amount.
{% set components = {
    "net_amount": "sum(l.net_amount)",
    "gross_amount": "coalesce(sum(l.net_amount) FILTER (WHERE l.sold), 0)",
    "returned_amount": "coalesce(-sum(l.net_amount) FILTER (WHERE NOT l.sold), 0)",
    "cost_amount": "CASE WHEN count(l.cost_amount) = count(*) THEN sum(l.cost_amount) END",
    "units": "CASE WHEN count(l.quantity) = count(*) THEN sum(l.quantity) END",
    "orders": "count(DISTINCT l.order_id) FILTER (WHERE l.sold)",
    "lines": "count(*)",
    "new_product_amount": "CASE WHEN count(l.launch_date) = count(*) THEN coalesce(sum(l.net_amount) FILTER (WHERE l.launch_date > l.day - INTERVAL 12 MONTH AND l.launch_date <= l.day), 0) END",
} %}
WITH lines AS (
    SELECT s.order_date AS day, s.order_id, s.quantity, s.net_amount, s.cost_amount,
           coalesce(s.quantity > 0, s.net_amount > 0) AS sold
    {%- if "new_product_amount" in wanted %}, p.launch_date{% endif %}
    {%- for dim in dims %}
        {%- if dim == "store" %}, s.store_id AS store
        {%- elif dim == "salesperson" %}, s.salesperson_id AS salesperson
        {%- elif dim in ["category", "subcategory"] %}, p.{{ dim }}
        {%- elif dim == "segment" %}, c.segment
        {%- else %}, s.{{ dim }}{% endif %}
    {%- endfor %}
    FROM sales s
    {%- if "category" in dims or "subcategory" in dims or "new_product_amount" in wanted %}
    LEFT JOIN products p ON p.sku = s.sku
    {%- endif %}
    {%- if "segment" in dims %}
    LEFT JOIN customers c ON c.customer_id = s.customer_id
    {%- endif %}
)
-- `all_net_amount` is the window's net amount over every group (the base of
-- a share, such as the channel mix).
SELECT *{% if "all_net_amount" in wanted %}, sum(_net) OVER (PARTITION BY window_id) AS all_net_amount{% endif %}
FROM (
    SELECT w.window_id{% for dim in dims %}, l.{{ dim }}{% endfor %}
        {%- for name in wanted if name != "all_net_amount" %},
           {{ components[name] }} AS {{ name }}
        {%- endfor %}
        {%- if "all_net_amount" in wanted %},
           sum(l.net_amount) AS _net
        {%- endif %}
    FROM _opskpi_spine w
    JOIN lines l ON l.day = w.day
    GROUP BY ALL
)
