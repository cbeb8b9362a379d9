"""The baseline of `cargo bench --bench serve`: the same questions through
DuckDB's own Python client on the same warehouse, in one process, a cursor
per thread (1, 10 and 50 threads), no network. The KPI numbers by
hand-written SQL (net sales and gross margin by region for 2026-10 and the
same month last year, the values `kpi()` answers); the table read is the
same `SELECT * FROM sales LIMIT 1000000`, streamed in Arrow batches.
Prints the rows of the benchmark's Markdown table.

    python benches/serve_duckdb.py WAREHOUSE.duckdb
"""

import sys
import threading
import time

import duckdb

KPI = """
WITH months AS (
    SELECT region, date_trunc('month', order_date) AS month,
           sum(net_amount) AS net, sum(net_amount) - sum(cost_amount) AS margin
    FROM sales
    WHERE order_date BETWEEN DATE '2025-10-01' AND DATE '2025-10-31'
       OR order_date BETWEEN DATE '2026-10-01' AND DATE '2026-10-31'
    GROUP BY ALL
)
SELECT region,
       sum(net) FILTER (WHERE month = DATE '2026-10-01') AS net_sales,
       sum(margin) FILTER (WHERE month = DATE '2026-10-01')
           / sum(net) FILTER (WHERE month = DATE '2026-10-01') AS gross_margin,
       sum(net) FILTER (WHERE month = DATE '2025-10-01') AS net_sales_last_year
FROM months GROUP BY region ORDER BY region
"""
TABLE = "SELECT * FROM sales LIMIT 1000000"


def run(con, clients, queries):
    latencies = []
    lock = threading.Lock()

    def client(i):
        cursor = con.cursor()
        for sql in queries[i::clients]:
            began = time.perf_counter()
            reader = cursor.execute(sql).to_arrow_reader(100_000)
            for _batch in reader:
                pass
            with lock:
                latencies.append(time.perf_counter() - began)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    latencies.sort()

    def at(q):
        return latencies[max(1, min(len(latencies), int(-(-len(latencies) * q // 1)))) - 1]

    return len(latencies), len(latencies) / wall, at(0.5), at(0.99)


def ms(seconds):
    return f"{seconds * 1000:.1f} ms" if seconds < 0.1 else f"{seconds:.2f} s"


def main():
    con = duckdb.connect(sys.argv[1], read_only=True)
    for clients in (1, 10, 50):
        for what, sql, count in (
            ("KPI by hand-written SQL, DuckDB Python", KPI, clients * 20),
            ("1M-row read, DuckDB Python", TABLE, 3 if clients == 1 else clients),
        ):
            n, qps, p50, p99 = run(con, clients, [sql] * count)
            print(f"| {what} | {clients} | {n} | {qps:.1f} | {ms(p50)} | {ms(p99)} | |")


if __name__ == "__main__":
    main()
