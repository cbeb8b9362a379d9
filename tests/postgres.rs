//! PostgreSQL sources against a real server. `.ci/run` installs PostgreSQL
//! from the distribution, starts it and sets `OPSKPI_TEST_PG_URL`; without
//! it the tests say so and pass locally, but under CI they fail.

use opskpi::config::{PostgresSource, Source};
use opskpi::warehouse::Warehouse;
use postgres::{Client, NoTls};

use crate::common::*;

const URL_ENV: &str = "OPSKPI_TEST_PG_URL";

/// A client to the test server, or `None` (outside CI) when there is none.
fn server() -> Option<Client> {
    match std::env::var(URL_ENV) {
        Ok(url) => Some(Client::connect(&url, NoTls).expect("the test PostgreSQL server answers")),
        Err(_) if std::env::var_os("CI").is_some() => {
            panic!("CI must provide PostgreSQL in {URL_ENV}")
        }
        Err(_) => {
            eprintln!("skipped: no PostgreSQL server ({URL_ENV} is not set)");
            None
        }
    }
}

fn pg_source(table: &str, pg: PostgresSource) -> Source {
    let mut source = Source::new(table, "unused");
    source.path = None;
    source.postgres = Some(PostgresSource {
        url_env: Some(URL_ENV.into()),
        ..pg
    });
    source
}

/// Rows of a DuckDB query as text, to compare with PostgreSQL's.
fn duck_rows(warehouse: &Warehouse, sql: &str) -> Vec<String> {
    let mut statement = warehouse.connection().prepare(sql).unwrap();
    statement
        .query_map([], |row| row.get::<_, String>(0))
        .unwrap()
        .collect::<duckdb::Result<_>>()
        .unwrap()
}

#[test]
fn a_table_and_a_query_load_row_for_row() {
    let Some(mut client) = server() else { return };
    client
        .batch_execute(
            "DROP TABLE IF EXISTS erp_orders;
             CREATE TABLE erp_orders (
                 order_no text, line integer, sold_on date, amount numeric(14,4),
                 cost numeric(14,4), channel text, updated_at timestamptz);
             INSERT INTO erp_orders VALUES
                 ('A1', 1, '2026-10-03', 1220.0464, 700, '門市', '2026-10-03 10:00+08'),
                 ('A1', 2, '2026-10-03', 220.0464, 80.5, '門市', '2026-10-03 10:00+08'),
                 ('A2', 1, '2026-10-04', 957.5775, 600, '網購', '2026-10-04 09:30+08'),
                 ('A3', 1, '2026-10-05', -220.0464, -80.5, '經銷商', '2026-10-05 18:00+08');",
        )
        .unwrap();
    let columns = |source: &mut Source| {
        for (canonical, file) in [
            ("order_id", "order_no"),
            ("line_no", "line"),
            ("order_date", "sold_on"),
            ("net_amount", "amount"),
            ("cost_amount", "cost"),
        ] {
            *source = source.clone().map(canonical, file);
        }
    };
    let mut table = pg_source(
        "sales",
        PostgresSource {
            table: Some("public.erp_orders".into()),
            ..Default::default()
        },
    );
    columns(&mut table);
    let mut warehouse = Warehouse::in_memory().unwrap();
    let outcomes = load(&mut warehouse, &[table.clone()]);
    assert_eq!((outcomes[0].rows, outcomes[0].loaded), (4, 4));
    // Row for row against PostgreSQL's own answer.
    let expected: Vec<String> = client
        .query(
            "SELECT order_no || '|' || line || '|' || sold_on || '|' || amount || '|' || cost FROM erp_orders ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    let loaded = duck_rows(
        &warehouse,
        "SELECT order_id || '|' || line_no || '|' || order_date || '|' || net_amount || '|' || cost_amount FROM sales ORDER BY 1",
    );
    assert_eq!(loaded, expected);
    assert_eq!(
        duck_rows(
            &warehouse,
            "SELECT string_agg(DISTINCT channel, ',' ORDER BY channel) FROM sales"
        ),
        ["dealer,online,store"]
    );
    // The same table again is unchanged and skipped.
    assert!(load(&mut warehouse, &[table]).iter().all(|o| o.unchanged));

    // A query: only the store channel's lines.
    let mut query = pg_source(
        "sales",
        PostgresSource {
            query: Some("select * from erp_orders where channel = '門市'".into()),
            ..Default::default()
        },
    );
    columns(&mut query);
    let mut warehouse = Warehouse::in_memory().unwrap();
    load(&mut warehouse, &[query]);
    assert_eq!(
        duck_rows(
            &warehouse,
            "SELECT count(*)::VARCHAR || ' ' || sum(net_amount) FROM sales"
        ),
        ["2 1440.0928"]
    );
}

#[test]
fn a_watermark_reads_only_new_and_changed_rows() {
    let Some(mut client) = server() else { return };
    client
        .batch_execute(
            "DROP TABLE IF EXISTS crm_customers;
             CREATE TABLE crm_customers (customer_id text, segment text, region text, updated_at timestamptz);
             INSERT INTO crm_customers VALUES
                 ('C1', '零售', 'North', '2026-10-01 08:00+00'),
                 ('C2', '批發', 'South', '2026-10-02 08:00+00');",
        )
        .unwrap();
    let source = pg_source(
        "customers",
        PostgresSource {
            table: Some("crm_customers".into()),
            watermark: Some("updated_at".into()),
            ..Default::default()
        },
    );
    let mut warehouse = Warehouse::in_memory().unwrap();
    assert_eq!(
        load(&mut warehouse, std::slice::from_ref(&source))[0].loaded,
        2
    );
    // C2 changes segment and C3 arrives; C1 is not read again.
    client
        .batch_execute(
            "UPDATE crm_customers SET segment = '經銷', updated_at = '2026-10-05 08:00+00' WHERE customer_id = 'C2';
             INSERT INTO crm_customers VALUES ('C3', '零售', 'East', '2026-10-06 08:00+00');",
        )
        .unwrap();
    let outcome = load(&mut warehouse, std::slice::from_ref(&source)).remove(0);
    assert_eq!((outcome.rows, outcome.loaded, outcome.replaced), (2, 2, 1));
    assert_eq!(
        duck_rows(&warehouse, "SELECT string_agg(customer_id || '=' || segment, ',' ORDER BY customer_id) FROM customers"),
        ["C1=retail,C2=dealer,C3=retail"]
    );
    // Nothing new: unchanged.
    assert!(load(&mut warehouse, &[source]).iter().all(|o| o.unchanged));
}

#[test]
fn the_password_appears_in_no_output() {
    let Some(_client) = server() else { return };
    let url = std::env::var(URL_ENV).unwrap();
    let password = url
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split('@').next())
        .and_then(|user| user.split(':').nth(1))
        .expect("the test URL has a password")
        .to_string();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("opskpi.toml");
    std::fs::write(
        &config,
        format!("[[sources]]\ntable = \"customers\"\n[sources.postgres]\nurl_env = \"{URL_ENV}\"\ntable = \"no_such_table\"\n"),
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_opskpi");
    for args in [vec!["ingest"], vec!["ingest", "--dry-run"]] {
        let output = std::process::Command::new(bin)
            .args(&args)
            .arg("--config")
            .arg(&config)
            .env(URL_ENV, &url)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(output.status.code(), Some(1), "{text}");
        assert!(text.contains("no_such_table"), "{text}");
        assert!(!text.contains(&password), "the password leaked: {text}");
    }
    // A wrong password: the error says so without printing either.
    let wrong = url.replace(&password, "not-the-password-1234");
    let output = std::process::Command::new(bin)
        .args(["ingest", "--config"])
        .arg(&config)
        .env(URL_ENV, &wrong)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stderr).to_string();
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        !text.contains("not-the-password-1234") && !text.contains(&password),
        "{text}"
    );
}

// ---- TLS -------------------------------------------------------------------
//
// `.ci/run` gives the server a certificate for the name `localhost`, signed
// by a certificate authority of its own whose PEM file is in
// `OPSKPI_TEST_PG_CA`.

const CA_ENV: &str = "OPSKPI_TEST_PG_CA";

/// The test server's URL with another host, and the CA file.
fn tls_server(host: &str) -> Option<(String, std::path::PathBuf)> {
    server()?;
    let ca = match std::env::var(CA_ENV) {
        Ok(path) => std::path::PathBuf::from(path),
        Err(_) if std::env::var_os("CI").is_some() => {
            panic!("CI must give the PostgreSQL server a certificate, its CA in {CA_ENV}")
        }
        Err(_) => {
            eprintln!("skipped: no CA file for the test server ({CA_ENV} is not set)");
            return None;
        }
    };
    let url = std::env::var(URL_ENV)
        .unwrap()
        .replace("@127.0.0.1:", &format!("@{host}:"));
    Some((url, ca))
}

/// A source whose one row says whether its own connection was encrypted
/// (PostgreSQL's `pg_stat_ssl`), as the customer's region.
fn ssl_probe(url: String, sslmode: &str, ca: Option<std::path::PathBuf>) -> Source {
    let mut source = Source::new("customers", "unused");
    source.path = None;
    source.postgres = Some(PostgresSource {
        url: Some(url),
        query: Some(
            "select 'C1' as customer_id, 'retail' as segment, ssl::text as region from pg_stat_ssl where pid = pg_backend_pid()"
                .into(),
        ),
        sslmode: Some(sslmode.into()),
        ca_file: ca,
        ..Default::default()
    });
    source
}

fn ingest_one(source: Source) -> opskpi::error::Result<Warehouse> {
    let mut warehouse = Warehouse::in_memory().unwrap();
    opskpi::ingest::ingest(
        &mut warehouse,
        &[source],
        loaded_at(),
        &Default::default(),
        &|_| {},
    )?;
    Ok(warehouse)
}

fn segment(warehouse: &Warehouse) -> Vec<String> {
    duck_rows(warehouse, "SELECT region FROM customers")
}

#[test]
fn sources_read_through_tls_in_every_mode_that_asks_for_it() {
    let Some((url, ca)) = tls_server("localhost") else {
        return;
    };
    // The server's own view of each connection: encrypted or not.
    for (mode, ca_file, encrypted) in [
        ("require", None, "true"),
        ("require", Some(ca.clone()), "true"),
        ("verify-ca", Some(ca.clone()), "true"),
        ("verify-full", Some(ca.clone()), "true"),
        ("prefer", None, "true"),
        ("disable", None, "false"),
    ] {
        let warehouse = ingest_one(ssl_probe(url.clone(), mode, ca_file))
            .unwrap_or_else(|error| panic!("{mode}: {error}"));
        assert_eq!(segment(&warehouse), [encrypted], "{mode}");
    }
    // The same modes in the connection string, libpq's way.
    let with_options = format!("{url}?sslmode=verify-full&sslrootcert={}", ca.display());
    let mut source = ssl_probe(with_options, "", None);
    source.postgres.as_mut().unwrap().sslmode = None;
    assert_eq!(segment(&ingest_one(source).unwrap()), ["true"]);
}

#[test]
fn verification_refuses_a_wrong_host_name_and_an_unknown_authority() {
    let Some((url, ca)) = tls_server("127.0.0.1") else {
        return;
    };
    // The certificate names `localhost`, not 127.0.0.1.
    let error = ingest_one(ssl_probe(url.clone(), "verify-full", Some(ca.clone())))
        .err()
        .expect("verify-full refuses a certificate for another name");
    let text = error.to_string();
    assert_eq!(error.exit_code(), 1, "{text}");
    assert!(text.contains("certificate"), "{text}");
    assert!(text.contains("127.0.0.1"), "{text}");
    // verify-ca does not check the name.
    assert_eq!(
        segment(&ingest_one(ssl_probe(url.clone(), "verify-ca", Some(ca))).unwrap()),
        ["true"]
    );
    // The system's authorities do not know the test CA.
    let (url, _) = tls_server("localhost").unwrap();
    let error = ingest_one(ssl_probe(url, "verify-full", None))
        .err()
        .expect("verify-full refuses an unknown authority");
    assert!(error.to_string().contains("certificate"), "{error}");
}

/// A server that answers PostgreSQL's TLS request with `N` (no TLS), and
/// records whatever else it is sent.
#[test]
fn require_refuses_a_server_without_tls_before_sending_anything() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut request = [0u8; 8];
        stream.read_exact(&mut request).unwrap();
        stream.write_all(b"N").unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest);
        (request, rest)
    });
    let url = format!("postgres://opskpi:never-Sent-1@127.0.0.1:{port}/db");
    let error = ingest_one(ssl_probe(url, "require", None))
        .err()
        .expect("require refuses a server without TLS");
    let text = error.to_string();
    assert_eq!(error.exit_code(), 1, "{text}");
    assert!(text.contains("TLS"), "{text}");
    let (request, rest) = server.join().unwrap();
    // The SSLRequest: length 8, code 80877103.
    assert_eq!(request, [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);
    assert!(
        !String::from_utf8_lossy(&rest).contains("opskpi"),
        "a startup message followed the refusal: {rest:?}"
    );
}
