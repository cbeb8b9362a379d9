-- The market around our own sales: our share drifts by region and category,
-- four competitors share most of the rest, and in the south a strong local
-- competitor leads.
CREATE OR REPLACE TABLE market_sizes AS
WITH own AS (
    SELECT date_trunc('month', s.order_date)::DATE AS period, s.region, p.category,
           sum(s.net_amount) AS amount, sum(s.quantity) AS units
    FROM sales s JOIN products p USING (sku) GROUP BY ALL
), cells AS (
    SELECT m.d::DATE AS period, r.region, r.base_share, c.category, c.category_no
    FROM range(getvariable('first_day'), getvariable('last_day'), INTERVAL 1 MONTH) m(d), regions r, categories c
), shared AS (
    SELECT cells.*, own.amount, own.units,
           base_share * (0.8 + 0.08 * category_no)
               * (1 + CASE region WHEN 'North' THEN 0.06 WHEN 'East' THEN -0.05 ELSE 0.01 END
                      * (period - getvariable('first_day')) / 365.0)
               * (0.96 + 0.08 * rnd(hash(region, category), period::VARCHAR)) AS share
    FROM cells LEFT JOIN own USING (period, region, category)
)
SELECT period, region, category,
       (round(greatest(coalesce(amount, 0), 100000 * getvariable('scale')) / share / 1000) * 1000)::DECIMAL(18,2) AS market_amount,
       round(greatest(coalesce(units, 0), 10) / (share * 1.15))::BIGINT AS market_units
FROM shared;

CREATE OR REPLACE TABLE competitor_sales AS
WITH rivals AS (
    SELECT * FROM (VALUES ('Nordhaus', 0.16), ('Casa Prima', 0.11), ('HomeNest', 0.08), ('Mobilia', 0.05)) t(competitor, share)
)
SELECT m.period, m.region, m.category, r.competitor,
       round(m.market_amount * r.share
             * CASE WHEN m.region = 'South' AND r.competitor = 'HomeNest' THEN 2.6 ELSE 1 END
             * (0.9 + 0.2 * rnd(hash(m.region, m.category, r.competitor), m.period::VARCHAR)), -2)::DECIMAL(18,2) AS sales_amount
FROM market_sizes m CROSS JOIN rivals r;
