-- description: Customers who bought at least twice but not in the last `days` days before `as_of`, by what they spent in the year before their last order.
-- param as_of: date             The day to look back from, e.g. 2026-10-31.
-- param days: integer = 180     Days without an order that count as at risk.
-- param n: integer = 50         How many customers.
WITH orders AS (
    SELECT customer_id, order_id, min(order_date) AS order_date, sum(net_amount) AS amount
    FROM sales
    WHERE customer_id IS NOT NULL AND order_date <= $as_of
    GROUP BY customer_id, order_id
),
customer AS (
    SELECT customer_id, count(*) AS orders, max(order_date) AS last_order,
           sum(amount) FILTER (WHERE order_date > (SELECT max(order_date) FROM orders o2 WHERE o2.customer_id = orders.customer_id) - INTERVAL 365 DAY) AS last_year_spend
    FROM orders
    GROUP BY customer_id
)
SELECT customer.customer_id, customers.segment, customers.region, customer.orders,
       customer.last_order, date_diff('day', customer.last_order, $as_of) AS days_since,
       customer.last_year_spend
FROM customer LEFT JOIN customers USING (customer_id)
WHERE customer.orders >= 2 AND customer.last_order < $as_of - CAST($days AS INTEGER)
ORDER BY customer.last_year_spend DESC NULLS LAST, customer.customer_id
LIMIT $n
