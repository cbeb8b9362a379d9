-- Employee ratings, each quarter (on its first month) since 2023: the
-- supervisor, a peer, the employee and, for those who serve customers,
-- customers rate results, ability and attitude from 0 to 100. Each person
-- has a level of their own; self-ratings run a little high; results ratings
-- follow the employee's share of sales a little.
CREATE OR REPLACE TABLE evaluations AS
WITH quarters AS (
    SELECT (DATE '2023-01-01' + INTERVAL (3 * q) MONTH)::DATE AS period
    FROM range(0, 16) t(q)
), raters AS (
    SELECT * FROM (VALUES ('supervisor', 0.0), ('peer', 1.0), ('self', 6.0), ('customer', -2.0)) AS t(rater, bias)
), dimensions AS (
    SELECT * FROM (VALUES ('results'), ('ability'), ('attitude')) AS t(dimension)
)
SELECT e.employee_id, q.period, r.rater, d.dimension,
       CAST(least(100, greatest(0, round(
           62 + 25 * rnd(e.employee_id, 'level') + r.bias
           + 10 * (rnd(e.employee_id || strftime(q.period, '%Y%m') || r.rater || d.dimension, 'score') - 0.5), 2)))
        AS DECIMAL(18,2)) AS score
FROM employees e, quarters q, raters r, dimensions d
WHERE q.period <= getvariable('last_day')
  AND (r.rater <> 'customer' OR e.role <> 'lead');
