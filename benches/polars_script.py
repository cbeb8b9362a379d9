"""The reference the Polars engine is measured against: the monthly report's
core numbers computed from the sample company's Parquet files by a Python
Polars script, written as a data team would (lazy scans, each window
filtered first, one `collect_all`). Not run by CI; see docs/benchmarks.md and the
engines benchmark for how to run it and what it measured.

    opskpi sample --scale 45 --out big && python3 benches/polars_script.py big

It prints, for October 2026, the previous month, October 2025 and both
years to date: net sales, cost, gross sales, returns and distinct orders;
net sales by region; active, new and repeat customers — the same numbers as
`opskpi kpi net_sales orders average_order_value gross_margin return_rate
active_customers new_customers repeat_purchase_rate --period 2026-10`.
"""

import datetime as dt
import sys
import time

import polars as pl

started = time.time()
folder = sys.argv[1]
sales = pl.scan_parquet(f"{folder}/sales.parquet")
windows = {
    "month": (dt.date(2026, 10, 1), dt.date(2026, 10, 31)),
    "previous": (dt.date(2026, 9, 1), dt.date(2026, 9, 30)),
    "last_year": (dt.date(2025, 10, 1), dt.date(2025, 10, 31)),
    "ytd": (dt.date(2026, 1, 1), dt.date(2026, 10, 31)),
    "ytd_last_year": (dt.date(2025, 1, 1), dt.date(2025, 10, 31)),
}
sold = pl.col("quantity") > 0
# A customer is new in a window when their first sold line ever is in it.
first = (
    sales.filter(sold & pl.col("customer_id").is_not_null())
    .group_by("customer_id")
    .agg(pl.col("order_date").min().alias("first"))
)
queries = []
for name, (start, end) in windows.items():
    lines = sales.filter(pl.col("order_date").is_between(start, end))
    queries.append(
        lines.select(
            pl.lit(name).alias("window"),
            pl.col("net_amount").sum().alias("net"),
            pl.col("cost_amount").sum().alias("cost"),
            pl.col("net_amount").filter(sold).sum().alias("gross"),
            (-pl.col("net_amount").filter(~sold)).sum().alias("returned"),
            pl.col("order_id").filter(sold).n_unique().alias("orders"),
        )
    )
    queries.append(
        lines.group_by("region")
        .agg(pl.col("net_amount").sum().alias("net"))
        .with_columns(pl.lit(name).alias("window"))
    )
    buyers = (
        lines.filter(sold & pl.col("customer_id").is_not_null())
        .group_by("customer_id")
        .agg(pl.col("order_id").n_unique().alias("orders"))
        .join(first, on="customer_id")
    )
    queries.append(
        buyers.select(
            pl.lit(name).alias("window"),
            pl.len().alias("active"),
            (pl.col("first") >= start).sum().alias("new"),
            (pl.col("orders") >= 2).sum().alias("repeat"),
        )
    )
with pl.Config(tbl_rows=-1, tbl_cols=-1):
    for frame in pl.collect_all(queries):
        print(frame)
print(f"{time.time() - started:.2f} s", file=sys.stderr)
