"""What psycopg 3 sees of `opskpi serve`: run by tests/serve.rs with the
connection string as its argument; prints what it read as JSON (decimals as
their exact text). Every query is prepared on the server (prepare_threshold
0: Parse/Bind/Describe/Execute with a named statement), in text and in
binary results, with typed parameters.
"""

import datetime
import json
import sys

import psycopg

out = {}
with psycopg.connect(sys.argv[1], prepare_threshold=0) as conn:
    out["server_version"] = conn.info.server_version
    rows = conn.execute("select value from kpi('net_sales', %s)", ["2024-03"]).fetchall()
    out["value"] = str(rows[0][0])
    with conn.cursor(binary=True) as cur:
        cur.execute(
            "select region, value from kpi('net_sales', %s, by := 'region') order by region",
            ["2024-03"],
        )
        out["by_region"] = [[region, str(value)] for region, value in cur.fetchall()]
    counts = []
    for _ in range(7):
        row = conn.execute(
            "select count(*) from sales where order_date >= %s and quantity >= %s",
            [datetime.date(2024, 3, 1), 1],
        ).fetchone()
        counts.append(row[0])
    out["counts"] = counts
    conn.commit()
    try:
        conn.execute("select * from no_such_table")
    except psycopg.errors.UndefinedTable as error:
        out["error"] = error.sqlstate
    conn.rollback()
    out["after_error"] = conn.execute("select 41 + 1").fetchone()[0]
print(json.dumps(out))
