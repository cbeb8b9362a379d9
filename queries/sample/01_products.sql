-- 20 SKUs per category; SKUs 17-20 of each are recent launches.
CREATE OR REPLACE TABLE products AS
WITH names AS (
    SELECT unnest(['Nordic', 'Oslo', 'Kyoto', 'Linen', 'Oak', 'Walnut', 'Haven', 'Cosy', 'Atelier', 'Loft',
                   'Terra', 'Luna', 'Birch', 'Maple', 'Soho', 'Alba', 'Vera', 'Moss', 'Sable', 'Iris']) AS adjective,
           generate_subscripts(['Nordic', 'Oslo', 'Kyoto', 'Linen', 'Oak', 'Walnut', 'Haven', 'Cosy', 'Atelier', 'Loft',
                   'Terra', 'Luna', 'Birch', 'Maple', 'Soho', 'Alba', 'Vera', 'Moss', 'Sable', 'Iris'], 1) AS item_no
), base AS (
    SELECT c.*, n.item_no, n.adjective,
           c.subcategories[1 + (n.item_no - 1) % 3] AS subcategory,
           upper(left(c.category, 3)) || '-' || lpad(n.item_no::VARCHAR, 3, '0') AS sku
    FROM categories c CROSS JOIN names n
)
SELECT
    sku,
    adjective || ' ' || subcategory AS name,
    category,
    subcategory,
    (round((price_lo + (price_hi - price_lo) * pow(rnd(sku, 'price'), 1.6)) / 10) * 10 - 10)::DECIMAL(18,2) + 9.00 AS list_price,
    NULL::DECIMAL(18,4) AS unit_cost,
    CASE WHEN item_no <= 16
         THEN DATE '2019-01-01' + (rnd(sku, 'launch') * 1400)::INTEGER
         ELSE DATE '2024-03-01' + (rnd(sku, 'launch') * 820)::INTEGER
    END AS launch_date,
    category_no,
    item_no
FROM base;

UPDATE products SET unit_cost = round(list_price * (0.42 + 0.16 * rnd(sku, 'cost')), 2);
