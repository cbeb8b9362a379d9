-- Shared helpers for the sample company. Variables set by the caller:
--   seed (BIGINT), scale (DOUBLE), first_day (DATE), last_day (DATE).
-- rnd(key, tag) is a deterministic uniform number in [0, 1): the same seed,
-- key and tag always give the same value, whatever the thread count.
CREATE OR REPLACE MACRO rnd(k, tag) AS
    (hash(getvariable('seed'), k, tag) % 1000000007)::DOUBLE / 1000000007.0;

CREATE OR REPLACE TABLE regions AS
SELECT * FROM (VALUES
    ('North',   1, 0.40, 0.09, 0.110),
    ('Central', 2, 0.25, 0.06, 0.090),
    ('South',   3, 0.25, 0.04, 0.080),
    ('East',    4, 0.10, -0.02, 0.060)
) AS t(region, region_no, weight, yearly_growth, base_share);

CREATE OR REPLACE TABLE categories AS
SELECT * FROM (VALUES
    ('sofas',    1, 0.12, 12000, 60000, 2.0, ['3-seat sofa', 'corner sofa', 'armchair']),
    ('beds',     2, 0.12,  8000, 40000, 1.8, ['double bed', 'single bed', 'mattress']),
    ('tables',   3, 0.14,  3000, 25000, 2.2, ['dining table', 'coffee table', 'desk']),
    ('storage',  4, 0.16,  2500, 20000, 2.5, ['wardrobe', 'bookcase', 'chest of drawers']),
    ('lighting', 5, 0.14,   500,  6000, 3.0, ['ceiling lamp', 'floor lamp', 'table lamp']),
    ('textiles', 6, 0.18,   300,  4000, 3.5, ['bedding', 'curtains', 'rug']),
    ('decor',    7, 0.14,   150,  2500, 4.0, ['mirror', 'frame', 'vase'])
) AS t(category, category_no, weight, price_lo, price_hi, cover_months, subcategories);

-- Month factor: a quiet summer and a year-end peak.
CREATE OR REPLACE TABLE seasons AS
SELECT * FROM (VALUES
    (1, 0.85), (2, 0.95), (3, 0.90), (4, 0.90), (5, 0.95), (6, 0.90),
    (7, 0.85), (8, 0.90), (9, 1.00), (10, 1.05), (11, 1.15), (12, 1.40)
) AS t(month_no, factor);
