-- description: The products with the highest net sales in a period, with units, margin and share of the period's sales.
-- param period: period          The period: 2026-10, 2026-Q3, 2026 …
-- param n: integer = 20         How many products.
WITH sold AS (
    SELECT sku, sum(net_amount) AS net_sales, sum(quantity) AS units,
           sum(net_amount) - sum(cost_amount) AS margin
    FROM sales
    WHERE order_date BETWEEN $period_start AND $period_end
    GROUP BY sku
)
SELECT sold.sku, products.name, products.category,
       sold.net_sales, sold.units,
       round(sold.margin / nullif(sold.net_sales, 0), 4) AS margin_rate,
       round(sold.net_sales / nullif(sum(sold.net_sales) OVER (), 0), 4) AS share
FROM sold LEFT JOIN products USING (sku)
ORDER BY sold.net_sales DESC, sold.sku
LIMIT $n
