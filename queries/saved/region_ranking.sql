-- description: Regions ranked by net sales in a period, with their share, orders and the same period a year earlier.
-- param period: period          The period: 2026-10, 2026-Q3, 2026 …
WITH now AS (
    SELECT region, sum(net_amount) AS net_sales, count(DISTINCT order_id) AS orders
    FROM sales
    WHERE order_date BETWEEN $period_start AND $period_end
    GROUP BY region
),
before AS (
    SELECT region, sum(net_amount) AS net_sales_last_year
    FROM sales
    WHERE order_date BETWEEN $period_start - INTERVAL 1 YEAR AND $period_end - INTERVAL 1 YEAR
    GROUP BY region
)
SELECT rank() OVER (ORDER BY now.net_sales DESC) AS rank, now.region, now.net_sales,
       round(now.net_sales / nullif(sum(now.net_sales) OVER (), 0), 4) AS share,
       now.orders, before.net_sales_last_year,
       round(now.net_sales / nullif(before.net_sales_last_year, 0) - 1, 4) AS growth
FROM now LEFT JOIN before USING (region)
ORDER BY rank, now.region
