-- description: Products with stock on hand at the period's last snapshot that sold least in the period: units sold against units on hand.
-- param period: period          The period: 2026-10, 2026-Q3 …
-- param n: integer = 20         How many products.
WITH last_snapshot AS (
    SELECT max(snapshot_date) AS snapshot_date
    FROM inventory_snapshots
    WHERE snapshot_date <= $period_end
),
stock AS (
    SELECT sku, sum(on_hand_qty) AS on_hand, sum(on_hand_qty * unit_cost) AS stock_value
    FROM inventory_snapshots JOIN last_snapshot USING (snapshot_date)
    GROUP BY sku
    HAVING sum(on_hand_qty) > 0
),
sold AS (
    SELECT sku, sum(quantity) AS units_sold
    FROM sales
    WHERE order_date BETWEEN $period_start AND $period_end
    GROUP BY sku
)
SELECT stock.sku, products.name, products.category, stock.on_hand,
       coalesce(sold.units_sold, 0) AS units_sold,
       round(coalesce(sold.units_sold, 0) / stock.on_hand, 4) AS sold_per_unit_on_hand,
       stock.stock_value
FROM stock
LEFT JOIN sold USING (sku)
LEFT JOIN products USING (sku)
ORDER BY sold_per_unit_on_hand, stock.stock_value DESC NULLS LAST, stock.sku
LIMIT $n
