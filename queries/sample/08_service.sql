-- Deliveries and service tickets. Online and dealer orders are delivered,
-- and store orders with furniture (sofas, beds, tables, storage) seven
-- times in ten. Three carriers; Island Express is late far more often (18 %
-- of its deliveries against 4 %), and one late delivery in three brings a
-- complaint; the sofa stock-out brings a wave of complaints. Other tickets:
-- about one order in thirty-five asks something,
-- suggests something or complains. Times are Taiwan time (+08:00);
-- anything after the last day has not happened yet.
CREATE OR REPLACE TABLE deliveries_raw AS
WITH furniture AS (
    SELECT DISTINCT s.order_id
    FROM sales s JOIN products p ON p.sku = s.sku
    WHERE p.category IN ('sofas', 'beds', 'tables', 'storage') AND s.quantity > 0
), delivered AS (
    SELECT o.order_key, o.order_id, o.order_date, o.customer_id,
           CASE WHEN rnd(o.order_key, 'carrier') < 0.45 THEN 'Swift Logistics'
                WHEN rnd(o.order_key, 'carrier') < 0.75 THEN 'Island Express'
                ELSE 'Harbor Freight' END AS carrier,
           o.order_date + (3 + floor(rnd(o.order_key, 'promise') * 6))::INTEGER AS promised_on
    FROM orders o
    WHERE o.channel IN ('online', 'dealer')
       OR (o.order_id IN (SELECT order_id FROM furniture) AND rnd(o.order_key, 'delivered') < 0.7)
), timed AS (
    SELECT *,
           rnd(order_key, 'late') < CASE carrier WHEN 'Island Express' THEN 0.18 ELSE 0.04 END AS late,
           (9 + floor(rnd(order_key, 'hour') * 10))::INTEGER AS hour
    FROM delivered
)
SELECT order_key, order_id, customer_id, carrier, promised_on, late, hour,
       CASE WHEN late THEN promised_on + (1 + floor(rnd(order_key, 'delay') * 4))::INTEGER
            ELSE promised_on - floor(rnd(order_key, 'early') * 3)::INTEGER END AS delivered_on,
       CAST(round((CASE carrier WHEN 'Island Express' THEN 0.8 ELSE 1.0 END)
                  * (180 + rnd(order_key, 'freight') * 240), 2) AS DECIMAL(18,2)) AS freight_cost
FROM timed;

CREATE OR REPLACE TABLE deliveries AS
SELECT order_id, promised_on,
       CASE WHEN delivered_on - 1 <= getvariable('last_day')
            THEN strftime(delivered_on - 1, '%Y-%m-%d') || 'T' || lpad((hour - 2)::VARCHAR, 2, '0') || ':00:00+08:00' END AS shipped_at,
       CASE WHEN delivered_on <= getvariable('last_day')
            THEN strftime(delivered_on, '%Y-%m-%d') || 'T' || lpad(hour::VARCHAR, 2, '0') || ':00:00+08:00' END AS delivered_at,
       carrier, freight_cost
FROM deliveries_raw;

CREATE OR REPLACE TABLE service_tickets AS
WITH raised AS (
    -- complaints about late deliveries, the day the goods came (or were due)
    SELECT order_key * 10 + 1 AS ticket_key, order_id, customer_id, 'complaint' AS kind,
           least(delivered_on, promised_on + 1) AS opened_on
    FROM deliveries_raw
    WHERE late AND rnd(order_key, 'complains') < 0.35
    UNION ALL
    SELECT order_key * 10 + 2, order_id, customer_id,
           CASE WHEN rnd(order_key, 'kind') < 0.70 THEN 'enquiry'
                WHEN rnd(order_key, 'kind') < 0.85 THEN 'suggestion'
                ELSE 'complaint' END,
           order_date + floor(rnd(order_key, 'ticket_day') * 21)::INTEGER
    FROM orders
    WHERE rnd(order_key, 'ticket') < 0.028
    UNION ALL
    -- the sofa stock-out (04_inventory.sql): one sofa order in four in that
    -- month and the next waits and complains
    SELECT o.order_key * 10 + 3, o.order_id, o.customer_id, 'complaint',
           o.order_date + (2 + floor(rnd(o.order_key, 'waited') * 10))::INTEGER
    FROM orders o
    WHERE o.order_date >= (SELECT month_start FROM stock_out)
      AND o.order_date < (SELECT month_start FROM stock_out) + INTERVAL 2 MONTH
      AND rnd(o.order_key, 'stock_out_complaint') < 0.25
      AND EXISTS (SELECT 1 FROM sales s JOIN products p ON p.sku = s.sku
                  WHERE s.order_id = o.order_id AND p.category = (SELECT category FROM stock_out))
), handled AS (
    SELECT r.*,
           CASE WHEN rnd(ticket_key, 'contact') < 0.5 THEN 'hotline'
                WHEN rnd(ticket_key, 'contact') < 0.8 THEN 'online'
                ELSE 'email' END AS channel,
           (8 + floor(rnd(ticket_key, 'opened_hour') * 12))::INTEGER * 60
               + floor(rnd(ticket_key, 'opened_minute') * 60)::INTEGER AS opened_minute
    FROM raised r
    WHERE r.opened_on <= getvariable('last_day')
), answered AS (
    SELECT h.*,
           -- minutes to the first answer: the hotline within hours, email often past a day
           CASE h.channel WHEN 'hotline' THEN 10 + floor(rnd(ticket_key, 'response') * 180)
                          WHEN 'online' THEN 60 + floor(rnd(ticket_key, 'response') * 1200)
                          ELSE 240 + floor(rnd(ticket_key, 'response') * 2400) END::INTEGER AS response_minutes,
           CASE WHEN rnd(ticket_key, 'unresolved') < 0.05 THEN NULL
                ELSE (120 + floor(pow(rnd(ticket_key, 'resolution'), 2) * 7200))::INTEGER END AS resolution_minutes
    FROM handled h
), stamped AS (
    SELECT *,
           opened_on::TIMESTAMP + to_minutes(opened_minute) AS opened_local,
           opened_on::TIMESTAMP + to_minutes(opened_minute + response_minutes) AS responded_local,
           opened_on::TIMESTAMP + to_minutes(opened_minute + response_minutes + resolution_minutes) AS resolved_local
    FROM answered
)
SELECT 'TK' || ticket_key AS ticket_id, kind, channel,
       strftime(opened_local, '%Y-%m-%dT%H:%M:%S') || '+08:00' AS opened_at,
       CASE WHEN responded_local < (getvariable('last_day') + 1)::TIMESTAMP
            THEN strftime(responded_local, '%Y-%m-%dT%H:%M:%S') || '+08:00' END AS first_response_at,
       CASE WHEN resolved_local < (getvariable('last_day') + 1)::TIMESTAMP
            THEN strftime(resolved_local, '%Y-%m-%dT%H:%M:%S') || '+08:00' END AS resolved_at,
       customer_id, order_id
FROM stamped;

DROP TABLE deliveries_raw;
