-- Monthly targets for the company, each region and each channel, through the
-- end of the last year: last year's actual plus 7 %, or for the first year
-- the actual itself give or take a few per cent. Each salesperson's month is
-- a twelfth of their last year's sales plus 7 % (the first year: of that
-- year's, give or take), spread over the months by the season.
CREATE OR REPLACE TABLE sales_targets AS
WITH months AS (
    SELECT m.d::DATE AS period
    FROM range(getvariable('first_day'), date_trunc('year', getvariable('last_day')) + INTERVAL 1 YEAR, INTERVAL 1 MONTH) m(d)
), actuals AS (
    SELECT date_trunc('month', order_date)::DATE AS period, 'company' AS scope, 'company' AS scope_value, sum(net_amount) AS amount FROM sales GROUP BY ALL
    UNION ALL
    SELECT date_trunc('month', order_date)::DATE, 'region', region, sum(net_amount) FROM sales GROUP BY ALL
    UNION ALL
    SELECT date_trunc('month', order_date)::DATE, 'channel', channel, sum(net_amount) FROM sales GROUP BY ALL
), scopes AS (
    SELECT DISTINCT scope, scope_value FROM actuals
)
SELECT m.period, s.scope, s.scope_value,
       (round(CASE WHEN m.period < getvariable('first_day') + INTERVAL 1 YEAR
                   THEN this_year.amount * (0.97 + 0.08 * rnd(hash(s.scope, s.scope_value), m.period::VARCHAR))
                   ELSE last_year.amount * 1.07 END / 1000) * 1000)::DECIMAL(18,2) AS target_amount
FROM months m CROSS JOIN scopes s
LEFT JOIN actuals this_year ON this_year.period = m.period AND this_year.scope = s.scope AND this_year.scope_value = s.scope_value
LEFT JOIN actuals last_year ON last_year.period = (m.period - INTERVAL 1 YEAR)::DATE AND last_year.scope = s.scope AND last_year.scope_value = s.scope_value
WHERE target_amount IS NOT NULL
UNION ALL
SELECT m.period, 'salesperson', p.salesperson_id,
       (round(CASE WHEN year(m.period) = year(getvariable('first_day'))
                   THEN this_year.amount * (0.97 + 0.08 * rnd(hash('salesperson', p.salesperson_id), m.period::VARCHAR))
                   ELSE last_year.amount * 1.07 END
              / 12 * f.factor / (SELECT avg(factor) FROM seasons) / 1000) * 1000)::DECIMAL(18,2)
FROM months m
CROSS JOIN (SELECT DISTINCT salesperson_id FROM sales WHERE salesperson_id IS NOT NULL) p
JOIN seasons f ON f.month_no = month(m.period)
LEFT JOIN (SELECT year(order_date) AS y, salesperson_id, sum(net_amount) AS amount FROM sales GROUP BY ALL) this_year
       ON this_year.y = year(m.period) AND this_year.salesperson_id = p.salesperson_id
LEFT JOIN (SELECT year(order_date) AS y, salesperson_id, sum(net_amount) AS amount FROM sales GROUP BY ALL) last_year
       ON last_year.y = year(m.period) - 1 AND last_year.salesperson_id = p.salesperson_id
WHERE CASE WHEN year(m.period) = year(getvariable('first_day')) THEN this_year.amount ELSE last_year.amount END IS NOT NULL;
