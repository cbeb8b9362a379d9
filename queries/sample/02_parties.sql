CREATE OR REPLACE TABLE stores AS
SELECT * FROM (
    SELECT 'S-' || upper(left(region, 1)) || n AS store_id,
           region || ' store ' || n AS name, 'store' AS channel, region
    FROM regions, range(1, 3) t(n)
    UNION ALL
    SELECT 'D-' || upper(left(region, 1)), region || ' dealer network', 'dealer', region FROM regions
    UNION ALL
    SELECT * FROM (VALUES ('WEB', 'Web shop', 'online', 'National'),
                          ('MALL', 'Marketplace shop', 'online', 'National'))
);

-- Customers are numbered in the order they joined, within their region.
CREATE OR REPLACE TABLE customers AS
WITH raw AS (
    SELECT i,
           rnd(i, 'region') AS u_region,
           rnd(i, 'segment') AS u_segment,
           DATE '2019-01-01' + (i::DOUBLE / n * (getvariable('last_day') - DATE '2019-01-01'))::INTEGER AS created_on
    FROM (SELECT greatest(500, round(30000 * getvariable('scale')))::BIGINT AS n),
         range(1, n + 1) t(i)
), placed AS (
    SELECT raw.*,
           CASE WHEN u_region < 0.40 THEN 'North' WHEN u_region < 0.65 THEN 'Central'
                WHEN u_region < 0.90 THEN 'South' ELSE 'East' END AS region
    FROM raw
)
SELECT 'C' || lpad(i::VARCHAR, 8, '0') AS customer_id,
       CASE WHEN u_segment < 0.86 THEN 'retail' WHEN u_segment < 0.95 THEN 'trade' ELSE 'dealer' END AS segment,
       region,
       created_on,
       row_number() OVER (PARTITION BY region ORDER BY i) AS region_seq,
       count(*) OVER (PARTITION BY region) AS region_count
FROM placed;

-- Three salespeople per own store and one account manager per dealer network.
CREATE OR REPLACE TABLE employees AS
WITH people AS (
    SELECT s.store_id, s.region, s.channel, n
    FROM stores s, range(1, 4) t(n)
    WHERE s.channel = 'store' OR (s.channel = 'dealer' AND n = 1)
)
SELECT 'E' || lpad(row_number() OVER (ORDER BY store_id, n)::VARCHAR, 3, '0') AS employee_id,
       (['Lin', 'Chen', 'Wang', 'Huang', 'Chang', 'Liu', 'Tsai', 'Yang', 'Hsu', 'Cheng', 'Wu', 'Lee'])
           [1 + (hash(store_id, n) % 12)::INTEGER] || ' ' ||
       (['Mei', 'Wei', 'Hao', 'Ting', 'Yu', 'Jun', 'An', 'Ling', 'Kai', 'Xin'])
           [1 + (hash(n, store_id) % 10)::INTEGER] AS name,
       CASE WHEN channel = 'dealer' THEN 'dealer sales' ELSE 'store sales' END AS team,
       CASE WHEN n = 1 THEN 'lead' ELSE 'consultant' END AS role,
       region,
       store_id,
       -- Whom a store's edition of a report goes to (a pipeline's deliver
       -- step: "store:*" = { employees_with_role = "lead" }).
       lower('E' || lpad(row_number() OVER (ORDER BY store_id, n)::VARCHAR, 3, '0')) || '@example.com.tw' AS email
FROM people;
