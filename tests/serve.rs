//! `opskpi serve` with real clients: psql (PostgreSQL's own) over TLS with
//! SCRAM, on the tiny company whose numbers are worked out by hand in
//! indicators.rs. The server runs as a process, as a user starts it; its
//! certificate is made with openssl. Without psql or openssl the tests say
//! so and pass locally; under CI they fail.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::cmd::*;
use crate::common::copy_fixture;

const ANA: &str = "ana-Pa55-word";
const VIC: &str = "vic-Pa55-word";

fn tool(name: &str) -> bool {
    // `openssl version`, `psql --version`.
    let flag = if name == "openssl" {
        "version"
    } else {
        "--version"
    };
    let found = Command::new(name)
        .arg(flag)
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        if std::env::var_os("CI").is_some() {
            panic!("CI must provide `{name}` for the serve tests");
        }
        eprintln!("skipped: no `{name}`");
    }
    found
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The verifier `opskpi serve passwd` prints for `password`.
fn passwd(name: &str, password: &str, role: &str) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_opskpi"))
        .args(["serve", "passwd", name, "--role", role])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    String::from_utf8(output.stdout).unwrap()
}

/// A certificate authority of the test's own (`ca.crt`) and the server's
/// certificate for localhost and 127.0.0.1 signed by it, as a company's
/// would be, valid for `days` from now (`-1`: expired yesterday).
fn certificate_for_days(dir: &Path, days: &str) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("server.crt"), dir.join("server.key"));
    let openssl = |args: &[&str]| {
        let status = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "openssl {args:?}");
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    openssl(
        &[
            &["req", "-x509"][..],
            &ec,
            &[
                "-days",
                "2",
                "-subj",
                "/CN=test CA",
                "-keyout",
                "ca.key",
                "-out",
                "ca.crt",
            ],
        ]
        .concat(),
    );
    openssl(
        &[
            &["req"][..],
            &ec,
            &[
                "-subj",
                "/CN=localhost",
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
            ],
        ]
        .concat(),
    );
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        days,
        "-extfile",
        "server.ext",
        "-out",
        "server.crt",
    ]);
    (cert, key)
}

struct Server {
    child: Child,
    port: u16,
    log: Arc<Mutex<String>>,
    _project: tempfile::TempDir,
    dir: PathBuf,
}

impl Server {
    /// The tiny company served with TLS and two users (ana an analyst,
    /// vic a viewer), as of 2024-12-31.
    fn start() -> Server {
        Server::start_with("")
    }

    /// … with `more` users' TOML (scoped ones) after ana and vic.
    fn start_with(more: &str) -> Server {
        Server::start_project(tiny_project(), more)
    }

    /// … for `project` (the tiny company with files of the test's own).
    fn start_project(project: tempfile::TempDir, more: &str) -> Server {
        Server::start_with_certificate(project, more, "2")
    }

    /// … with a server certificate valid for `days` (`-1`: expired).
    fn start_with_certificate(project: tempfile::TempDir, more: &str, days: &str) -> Server {
        let dir = project.path().to_path_buf();
        let (cert, key) = certificate_for_days(&dir, days);
        let port = free_port();
        let mut config = std::fs::read_to_string(dir.join("opskpi.toml")).unwrap();
        config.push_str(&format!(
            "\n[serve]\nlisten = \"127.0.0.1:{port}\"\ntls_cert = \"{}\"\ntls_key = \"{}\"\nrefresh_seconds = 1\n\n{}\n{}\n{more}",
            cert.display(),
            key.display(),
            passwd("ana", ANA, "analyst"),
            passwd("vic", VIC, "viewer"),
        ));
        std::fs::write(dir.join("opskpi.toml"), config).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_opskpi"))
            .args([
                "serve",
                "--config",
                &config_arg(&dir),
                "--as-of",
                "2024-12-31",
            ])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (stderr, kept) = (child.stderr.take().unwrap(), log.clone());
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(|l| l.ok()) {
                kept.lock().unwrap().push_str(&format!("{line}\n"));
            }
        });
        let server = Server {
            child,
            port,
            log,
            _project: project,
            dir,
        };
        server.wait_for("listening on");
        server
    }

    fn wait_for(&self, words: &str) {
        let started = Instant::now();
        while !self.log().contains(words) {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the server never said `{words}`:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// psql with `user`'s `password`, one command, unaligned output.
    fn psql(&self, user: &str, password: &str, sslmode: &str, command: &str) -> Output {
        Command::new("psql")
            .arg(format!(
                "host=127.0.0.1 port={} user={user} dbname=opskpi sslmode={sslmode} connect_timeout=10",
                self.port
            ))
            .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", command])
            .env("PGPASSWORD", password)
            .env("PGSSLROOTCERT", self.dir.join("ca.crt"))
            .env_remove("PGSERVICE")
            .output()
            .unwrap()
    }

    fn ask(&self, user: &str, password: &str, command: &str) -> String {
        let output = self.psql(user, password, "verify-full", command);
        assert!(output.status.success(), "{command}: {}", stderr(&output));
        stdout(&output).trim().to_string()
    }

    /// SIGTERM, and the exit status.
    fn stop(mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.child.wait().unwrap()
    }
}

impl Server {
    /// rust-postgres (tokio-postgres), a driver of its own that speaks the
    /// extended protocol and asks for every result in binary, over TLS
    /// verifying the certificate.
    fn driver(&self, user: &str, password: &str) -> postgres::Client {
        use rustls_pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore::empty();
        for cert in
            rustls_pki_types::CertificateDer::pem_file_iter(self.dir.join("ca.crt")).unwrap()
        {
            roots.add(cert.unwrap()).unwrap();
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        postgres::Config::new()
            .host("localhost")
            .port(self.port)
            .user(user)
            .password(password)
            .dbname("opskpi")
            .ssl_mode(postgres::config::SslMode::Require)
            .connect(tokio_postgres_rustls::MakeRustlsConnect::new(tls))
            .unwrap()
    }
}

/// A value's bytes as the server sent them (binary format).
#[derive(Debug, PartialEq, Eq)]
struct Raw(Vec<u8>);

impl<'a> postgres::types::FromSql<'a> for Raw {
    fn from_sql(
        _: &postgres::types::Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Raw(raw.to_vec()))
    }

    fn accepts(_: &postgres::types::Type) -> bool {
        true
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

#[test]
fn psql_reads_tables_and_indicators_over_tls_with_scram() {
    if !tool("psql") || !tool("openssl") {
        return;
    }
    let server = Server::start();
    // March 2024's net sales, worked out by hand in indicators.rs: 2180.
    let value = server.ask("ana", ANA, "select value from kpi('net_sales', '2024-03')");
    assert_eq!(value.parse::<f64>().unwrap(), 2180.0, "{value}");
    assert!(value.starts_with("2180."), "exact decimal digits: {value}");
    // The same digits as `opskpi kpi` (its JSON keeps every digit).
    let kpi = kpi(
        server.dir.as_path(),
        &["net_sales", "--period", "2024-03", "--format", "json"],
    );
    assert!(
        stdout(&kpi).contains(&format!("\"{value}\"")) || stdout(&kpi).contains("2180"),
        "{}",
        stdout(&kpi)
    );
    // A raw table, through the extended protocol too (psql's \bind).
    // Every row of the table, counted from the CSV itself.
    let counted = server.ask("ana", ANA, "select count(*) from sales");
    let lines = std::fs::read_to_string(server.dir.join("sales.csv")).unwrap();
    assert_eq!(counted, (lines.lines().count() - 1).to_string());
    // kpi_monthly: every indicator by month (the company's row is the
    // largest of March's net sales rows, the North's 2000 by hand).
    assert_eq!(
        server.ask("ana", ANA, "select max(value) from kpi_monthly where indicator = 'net_sales' and period = '2024-03'"),
        "2180.000000000000000000"
    );
    assert_eq!(
        server.ask("vic", VIC, "select value from kpi_monthly where indicator = 'net_sales' and period = '2024-03' and region = 'North'"),
        "2000.000000000000000000"
    );
    // Session statements drivers send are answered.
    assert_eq!(
        server.ask("ana", ANA, "show transaction_isolation"),
        "read committed"
    );
    assert_eq!(server.ask("ana", ANA, "set extra_float_digits = 3"), "SET");
    let log = server.log();
    assert!(log.contains("connected user=ana"), "{log}");
    assert!(log.contains("tls=on"), "{log}");
    // No password, no query text in the log.
    assert!(
        !log.contains(ANA) && !log.contains("kpi('net_sales'"),
        "{log}"
    );
    assert!(server.stop().success());
}

#[test]
fn the_server_refuses_what_it_must() {
    if !tool("psql") || !tool("openssl") {
        return;
    }
    let server = Server::start();
    // A wrong password, and a user who does not exist, fail alike.
    let wrong = server.psql("ana", "not-it", "require", "select 1");
    assert!(!wrong.status.success());
    let failed = |o: &Output| {
        stderr(o)
            .to_lowercase()
            .contains("password authentication failed")
    };
    assert!(failed(&wrong), "{}", stderr(&wrong));
    let nobody = server.psql("mallory", "not-it", "require", "select 1");
    assert!(failed(&nobody), "{}", stderr(&nobody));
    // Without TLS: refused before any password is sent.
    let plain = server.psql("ana", ANA, "disable", "select 1");
    assert!(!plain.status.success());
    assert!(
        stderr(&plain).contains("TLS connections only"),
        "{}",
        stderr(&plain)
    );
    // Two statements: nothing runs (42601).
    let two = server.psql("ana", ANA, "require", "select 1; select 2");
    assert!(!two.status.success());
    assert!(
        stderr(&two).contains("more than one statement"),
        "{}",
        stderr(&two)
    );
    // Writes and files: refused by the door (42501).
    let write = server.psql(
        "ana",
        ANA,
        "require",
        "select * from read_csv('/etc/passwd')",
    );
    assert!(!write.status.success(), "{}", stdout(&write));
    // A viewer reaches the indicators and no raw row.
    assert_eq!(
        server.ask("vic", VIC, "select count(*) > 0 from kpi_indicators()"),
        "t"
    );
    let raw = server.psql("vic", VIC, "require", "select * from sales");
    assert!(!raw.status.success());
    assert!(stderr(&raw).contains("sales"), "{}", stderr(&raw));
    let log = server.log();
    assert!(log.contains("refused: not TLS"), "{log}");
    assert!(!log.contains("not-it") && !log.contains(ANA), "{log}");
    assert!(server.stop().success());
}

#[test]
fn a_driver_prepares_binds_and_reads_binary() {
    if !tool("psql") || !tool("openssl") {
        return;
    }
    let server = Server::start();
    let mut client = server.driver("ana", ANA);
    // One prepared statement executed more often than pgJDBC's
    // prepareThreshold (5): the rows every time.
    let statement = client
        .prepare("select count(*) as n, sum(net_amount)::varchar as total from sales where order_date >= $1::text::date and region = $2")
        .unwrap();
    for _ in 0..7 {
        let rows = client
            .query(&statement, &[&"2024-03-01", &"North"])
            .unwrap();
        assert_eq!(rows.len(), 1);
        let n: i64 = rows[0].get("n");
        let total: String = rows[0].get("total");
        // By hand from tests/fixtures/tiny/sales.csv: North's lines from
        // March 2024 on.
        let lines = std::fs::read_to_string(server.dir.join("sales.csv")).unwrap();
        let north: Vec<&str> = lines
            .lines()
            .skip(1)
            .filter(|l| {
                let f: Vec<&str> = l.split(',').collect();
                f[2] >= "2024-03-01" && f[7] == "North"
            })
            .collect();
        assert_eq!(n as usize, north.len());
        let sum: f64 = north
            .iter()
            .map(|l| l.split(',').nth(10).unwrap().parse::<f64>().unwrap())
            .sum();
        assert_eq!(total.parse::<f64>().unwrap(), sum, "{total}");
    }
    // A typed parameter in binary (an i32) and a date back in binary.
    let row = client
        .query_one(
            "select $1::integer + 1 as next, date '2024-03-31' as day",
            &[&41i32],
        )
        .unwrap();
    assert_eq!(row.get::<_, i32>("next"), 42);
    // A date in binary: days since 2000-01-01, big-endian.
    let days = (chrono::NaiveDate::from_ymd_opt(2024, 3, 31).unwrap()
        - chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap())
    .num_days() as i32;
    assert_eq!(row.get::<_, Raw>("day"), Raw(days.to_be_bytes().to_vec()));
    // An error keeps the connection usable.
    assert!(client.query("select * from no_such_table", &[]).is_err());
    assert_eq!(
        client
            .query_one("select 1::bigint", &[])
            .unwrap()
            .get::<_, i64>(0),
        1
    );
}

/// `value` with `scale` digits after the point, as text.
fn decimal_text(value: i128, scale: u32) -> String {
    let digits = format!(
        "{:0>width$}",
        value.unsigned_abs(),
        width = scale as usize + 1
    );
    let (whole, fraction) = digits.split_at(digits.len() - scale as usize);
    let sign = if value < 0 { "-" } else { "" };
    if scale == 0 {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{fraction}")
    }
}

#[test]
fn numeric_is_sent_as_postgresql_sends_it() {
    if !tool("psql") || !tool("openssl") {
        return;
    }
    let Ok(url) = std::env::var("OPSKPI_TEST_PG_URL") else {
        if std::env::var_os("CI").is_some() {
            panic!("CI must provide PostgreSQL in OPSKPI_TEST_PG_URL");
        }
        eprintln!("skipped: no PostgreSQL server to compare with");
        return;
    };
    let mut postgres = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let server = Server::start();
    let mut served = server.driver("ana", ANA);
    // Edges, then values spread over every digit count and scale (a fixed
    // sequence, the same on every run).
    let mut cases: Vec<(i128, u32)> = vec![
        (0, 0),
        (0, 4),
        (1, 0),
        (-1, 0),
        (10_000, 0),
        (9_999, 4),
        (-5, 4),
        (5, 6),
        (1_0000_0001, 4),
        (2_180_000_000_000_000_000_000, 18),
        (10i128.pow(37), 0),
        (-(10i128.pow(38) - 1), 10),
        (123_456_789, 9),
        (100, 2),
    ];
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..200 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let digits = (state % 38) as u32 + 1;
        let scale = ((state >> 8) % 19) as u32;
        let magnitude = ((state as i128) << 64 | (state.rotate_left(29) as i128))
            .rem_euclid(10i128.pow(digits));
        let value = if state & 1 == 1 {
            -magnitude
        } else {
            magnitude
        };
        cases.push((value, scale));
    }
    for (value, scale) in cases {
        let text = decimal_text(value, scale);
        let theirs: Raw = postgres
            .query_one(&format!("select $1::text::numeric(38,{scale})"), &[&text])
            .unwrap()
            .get(0);
        let ours: Raw = served
            .query_one(
                &format!("select cast($1::text as decimal(38,{scale}))"),
                &[&text],
            )
            .unwrap()
            .get(0);
        assert_eq!(ours, theirs, "{text}");
    }
}

#[test]
fn postgresql_accepts_a_verifier_made_here() {
    let Ok(url) = std::env::var("OPSKPI_TEST_PG_URL") else {
        if std::env::var_os("CI").is_some() {
            panic!("CI must provide PostgreSQL in OPSKPI_TEST_PG_URL");
        }
        eprintln!("skipped: no PostgreSQL server");
        return;
    };
    // The test login's own password, set again as a verifier that
    // `opskpi serve passwd` made: PostgreSQL stores it as given, and a new
    // login with the password passes only if PostgreSQL's SCRAM accepts it.
    let config: postgres::Config = url.parse().unwrap();
    let password = String::from_utf8(config.get_password().unwrap().to_vec()).unwrap();
    let user = config.get_user().unwrap().to_string();
    let printed = passwd(&user, &password, "analyst");
    let verifier = printed
        .lines()
        .find_map(|line| line.strip_prefix("verifier = \""))
        .unwrap()
        .trim_end_matches('"')
        .to_string();
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    client
        .batch_execute(&format!("ALTER ROLE \"{user}\" PASSWORD '{verifier}'"))
        .unwrap();
    let mut again = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    assert_eq!(
        again.query_one("select 1", &[]).unwrap().get::<_, i32>(0),
        1
    );
}

/// A user of the North region only: `passwd`'s lines with a scope.
fn scoped(name: &str, password: &str, role: &str, region: &str) -> String {
    format!(
        "{}scope = {{ region = \"{region}\" }}\n",
        passwd(name, password, role)
    )
}

/// What only the South's rows hold in the tiny company: its orders, its
/// customer, its survey answer, its amounts.
const SOUTH_ONLY: [&str; 9] = ["O2", "O3", "O5", "O6", "C2", "R2", "R3", "270.00", "180.00"];

#[derive(Debug)]
enum Expect {
    /// Exactly these lines (worked out by hand from the fixture's CSVs).
    Rows(&'static str),
    /// Refused: psql fails, and nothing of the South in what it prints.
    Refused,
    /// Answered, and nothing of the South in it.
    NothingOfTheSouth,
}

#[test]
fn a_scoped_user_reaches_nothing_outside_their_scope() {
    use Expect::*;
    if !tool("psql") || !tool("openssl") {
        return;
    }
    let server = Server::start_with(&format!(
        "{}\n{}\n{}",
        scoped("nora", "nora-Pa55", "analyst", "North"),
        scoped("vera", "vera-Pa55", "viewer", "North"),
        scoped("sam", "sam-Pa55", "analyst", "South"),
    ));
    let warehouse = server.dir.join("warehouse.duckdb").display().to_string();
    let csv = server.dir.join("sales.csv").display().to_string();
    // North by hand (sales.csv): O1 1000, O4 1900 + 100, O7 500, O8 1000,
    // O9 100 → 6 lines, 4600; March 2024: O4 → 2000, all in the store
    // channel. Survey answers R1 (on O4) and R4 (no order, customer C1 of
    // the North); market rows of the North only.
    let attempts: Vec<(String, Expect)> = vec![
        ("select count(*) from sales".into(), Rows("6")),
        (
            "select sum(net_amount) from sales".into(),
            Rows("4600.0000"),
        ),
        ("select count(*) from main.sales".into(), Rows("6")),
        ("select count(*) from main.main.sales".into(), Refused),
        (
            "select count(*) from sales where region <> 'North'".into(),
            Rows("0"),
        ),
        (
            "select count(*) from sales where region = 'North' or 1 = 1".into(),
            Rows("6"),
        ),
        (
            "select string_agg(distinct region, ',') from sales".into(),
            Rows("North"),
        ),
        (
            "with s as (select * from sales) select count(*) from s".into(),
            Rows("6"),
        ),
        (
            "select count(*) from (select * from sales union all select * from sales where true)"
                .into(),
            Rows("12"),
        ),
        ("select count(*) from wh.sales".into(), Refused),
        (format!("attach '{warehouse}' as w (read_only)"), Refused),
        (format!("select count(*) from read_csv('{csv}')"), Refused),
        (format!("select count(*) from '{csv}'"), Refused),
        (
            format!("select * from read_parquet('{warehouse}')"),
            Refused,
        ),
        ("select * from glob('*')".into(), Refused),
        (
            "select * from query('select * from sales')".into(),
            NothingOfTheSouth,
        ),
        ("select * from duckdb_databases()".into(), NothingOfTheSouth),
        (
            "select table_name, estimated_size from duckdb_tables()".into(),
            NothingOfTheSouth,
        ),
        (
            "select estimated_size from duckdb_tables() where table_name = 'sales'".into(),
            Rows("6"),
        ),
        (
            "select * from pg_catalog.pg_tables".into(),
            NothingOfTheSouth,
        ),
        (
            "select * from information_schema.tables".into(),
            NothingOfTheSouth,
        ),
        ("select * from sqlite_master".into(), NothingOfTheSouth),
        (
            "select * from pragma_database_size()".into(),
            NothingOfTheSouth,
        ),
        (
            "select region, value from kpi('net_sales', '2024-03', by := 'region')".into(),
            Rows("North|2000.000000000000000000"),
        ),
        (
            "select value from kpi('net_sales', '2024-03')".into(),
            Rows("2000.000000000000000000"),
        ),
        (
            "select channel, value from kpi('net_sales', '2024-03', by := 'channel')".into(),
            Rows("store|2000.000000000000000000"),
        ),
        (
            "select count(*) from customers where customer_id = 'C2'".into(),
            Rows("0"),
        ),
        (
            "select string_agg(response_id, ',' order by response_id) from surveys".into(),
            Rows("R1,R4"),
        ),
        (
            "select count(*) from market_sizes where region <> 'North'".into(),
            Rows("0"),
        ),
        (
            "select scope_value || ' ' || target_amount from sales_targets".into(),
            Rows("North 1800.0000"),
        ),
        ("select count(*) from inventory_snapshots".into(), Rows("0")),
        ("select count(*) from employees".into(), Rows("0")),
        (
            "select value from duckdb_settings() where name = 'enable_external_access'".into(),
            Rows("false"),
        ),
        ("set enable_external_access = true".into(), Rows("SET")),
        (format!("select count(*) from read_csv('{csv}')"), Refused),
        ("select 1; detach main".into(), Refused),
        (
            "select 1); attach ':memory:' as y; select (1".into(),
            Refused,
        ),
        ("copy sales to '/tmp/opskpi-bypass.csv'".into(), Refused),
        ("export database '/tmp/opskpi-bypass'".into(), Refused),
        ("install httpfs".into(), Refused),
        ("load httpfs".into(), Refused),
        ("pragma database_list".into(), Refused),
        ("call pragma_database_list()".into(), Refused),
        (
            "select * from sales where order_id = chr(79) || chr(53)".into(),
            NothingOfTheSouth,
        ),
    ];
    assert!(attempts.len() >= 40, "{}", attempts.len());
    for (sql, expect) in &attempts {
        let output = server.psql("nora", "nora-Pa55", "require", sql);
        let printed = format!("{}{}", stdout(&output), stderr(&output));
        match expect {
            Rows(rows) => {
                assert!(output.status.success(), "{sql}: {printed}");
                assert_eq!(stdout(&output).trim(), *rows, "{sql}");
            }
            Refused => assert!(!output.status.success(), "{sql} was answered: {printed}"),
            NothingOfTheSouth => assert!(output.status.success(), "{sql}: {printed}"),
        }
        for secret in SOUTH_ONLY {
            assert!(
                !printed.contains(secret),
                "{sql} shows `{secret}`: {printed}"
            );
        }
    }
    // The viewer of the North: the indicators of the North, no table.
    let viewer = [
        (
            "select value from kpi('net_sales', '2024-03')",
            Rows("2000.000000000000000000"),
        ),
        (
            "select region, value from kpi('net_sales', '2024-03', by := 'region')",
            Rows("North|2000.000000000000000000"),
        ),
        ("select count(*) from duckdb_tables()", Rows("0")),
        ("select * from sales", Refused),
    ];
    for (sql, expect) in viewer {
        let output = server.psql("vera", "vera-Pa55", "require", sql);
        match expect {
            Rows(rows) => assert_eq!(stdout(&output).trim(), rows, "{sql}: {}", stderr(&output)),
            _ => assert!(!output.status.success(), "{sql}"),
        }
    }
    // The South's analyst sees the South (March 2024: 270 − 90 = 180).
    assert_eq!(
        server.ask(
            "sam",
            "sam-Pa55",
            "select value from kpi('net_sales', '2024-03')"
        ),
        "180.000000000000000000"
    );
    // Nothing was written where the bypasses aimed.
    assert!(!Path::new("/tmp/opskpi-bypass.csv").exists());
    assert!(!Path::new("/tmp/opskpi-bypass").exists());
}

#[test]
fn a_load_while_serving_is_seen_whole_and_answers_are_never_stale() {
    if !tool("psql") || !tool("openssl") {
        return;
    }
    let server = Server::start();
    let ask = || server.ask("ana", ANA, "select value from kpi('net_sales', '2024-03')");
    // 2180 by hand (indicators.rs); asked twice, the second from the
    // copy's kept answers: the same digits.
    assert_eq!(ask(), "2180.000000000000000000");
    assert_eq!(ask(), "2180.000000000000000000");
    // A load while serving: a March line of 50 more.
    let sales = server.dir.join("sales.csv");
    let mut text = std::fs::read_to_string(&sales).unwrap();
    text.push_str("O10,1,2024-03-20,C1,P1,S1,store,North,E1,1,50.00,20.00\n");
    std::fs::write(&sales, text).unwrap();
    let load = opskpi(&["ingest", "--config", &config_arg(&server.dir), "--quiet"]);
    assert!(load.status.success(), "{}", stderr(&load));
    server.wait_for("serving new copies");
    assert_eq!(ask(), "2230.000000000000000000");
    assert_eq!(server.ask("ana", ANA, "select count(*) from sales"), "13");
    // The old copy is gone once nothing reads it; one copy per scope in
    // use (here the company's) is left.
    let copies = std::fs::read_dir(server.dir.join("warehouse.duckdb.serve"))
        .unwrap()
        .count();
    assert_eq!(copies, 1);
    assert!(server.stop().success());
}

#[test]
fn psycopg_reads_the_same_digits() {
    let python = match std::env::var("OPSKPI_TEST_PYTHON") {
        Ok(python) => python,
        Err(_) if std::env::var_os("CI").is_some() => {
            panic!("CI must provide a Python with psycopg in OPSKPI_TEST_PYTHON")
        }
        Err(_) => {
            eprintln!("skipped: no Python with psycopg (OPSKPI_TEST_PYTHON)");
            return;
        }
    };
    if !tool("psql") || !tool("openssl") {
        return;
    }
    let server = Server::start();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/psycopg_check.py");
    let output = Command::new(python)
        .arg(script)
        .arg(format!(
            "host=localhost port={} user=ana password={ANA} dbname=opskpi sslmode=verify-full sslrootcert={}",
            server.port,
            server.dir.join("ca.crt").display()
        ))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let read: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    // Hand-worked (indicators.rs): March 2024 is 2180, the North 2000 and
    // the South 270 − 90 = 180 — the same digits in text and in binary.
    assert_eq!(read["value"], "2180.000000000000000000");
    assert_eq!(
        read["by_region"],
        serde_json::json!([
            ["North", "2000.000000000000000000"],
            ["South", "180.000000000000000000"]
        ])
    );
    // Lines from 2024-03-01 with a quantity of at least 1, from the CSV.
    let lines = std::fs::read_to_string(server.dir.join("sales.csv")).unwrap();
    let by_hand = lines
        .lines()
        .skip(1)
        .filter(|l| {
            let f: Vec<&str> = l.split(',').collect();
            f[2] >= "2024-03-01" && f[9].parse::<i64>().unwrap() >= 1
        })
        .count();
    assert_eq!(read["counts"], serde_json::json!(vec![by_hand; 7]));
    assert_eq!(read["error"], "42P01");
    assert_eq!(read["after_error"], 42);
    assert_eq!(read["server_version"], 160000);
    assert!(server.stop().success());
}

/// The server's resident memory (kB), from /proc.
fn resident_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn fifty_clients_at_once_and_one_that_leaves_mid_answer() {
    if !tool("psql") || !tool("openssl") {
        return;
    }
    let server = Server::start();
    let queries = |client: &mut postgres::Client| {
        for i in 0..20 {
            let row = client
                .query_one(
                    "select value::varchar from kpi('net_sales', '2024-03')",
                    &[],
                )
                .unwrap();
            assert_eq!(row.get::<_, String>(0), "2180.000000000000000000");
            let n: i64 = client
                .query_one(
                    "select count(*) from sales where line_no <= $1::bigint",
                    &[&(i as i64 + 1000)],
                )
                .unwrap()
                .get(0);
            assert_eq!(n, 12);
        }
    };
    let fifty = || {
        std::thread::scope(|scope| {
            for _ in 0..50 {
                scope.spawn(|| queries(&mut server.driver("ana", ANA)));
            }
        })
    };
    // A first round of fifty, so that what the server keeps (the copy's
    // answers, the allocator's arenas for fifty threads) is in place; then
    // the memory of a second round is compared with it.
    fifty();
    let before = resident_kb(server.child.id());
    fifty();
    let after = resident_kb(server.child.id());
    assert!(
        after <= before + before / 10,
        "resident memory {before} kB before the 50 clients, {after} kB after"
    );
    // A client that leaves in the middle of a long answer (a hundred
    // million rows): psql killed while it reads; the query stops, and the
    // server goes on answering.
    let mut leaving = Command::new("psql")
        .arg(format!(
            "host=127.0.0.1 port={} user=ana dbname=opskpi sslmode=require",
            server.port
        ))
        .args(["-X", "-At", "-c", "select * from range(100000000)"])
        .env("PGPASSWORD", ANA)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    server.wait_for("connected user=ana from=");
    std::thread::sleep(Duration::from_millis(1500));
    leaving.kill().unwrap();
    leaving.wait().unwrap();
    server.wait_for("error=08006");
    queries(&mut server.driver("ana", ANA));
    let connected = server.log().matches("connected user=ana").count();
    assert_eq!(connected, 102);
    assert!(server.stop().success());
}

/// The canonical tables of DOMAIN.md, in name order.
const CANONICAL: [&str; 17] = [
    "competitor_sales",
    "customers",
    "deliveries",
    "employees",
    "evaluations",
    "inventory_snapshots",
    "market_sizes",
    "product_projects",
    "products",
    "purchase_orders",
    "quality_inspections",
    "sales",
    "sales_targets",
    "service_tickets",
    "stores",
    "suppliers",
    "surveys",
];

/// The tiny company with two saved queries of its own: one whose
/// parameters all have defaults (served as a view), one that needs a value
/// (not served).
fn project_with_saved_queries() -> tempfile::TempDir {
    let project = tiny_project();
    let folder = project.path().join("queries");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(
        folder.join("north_lines.sql"),
        "-- description: A region's lines and net sales in a period.\n\
         -- param region: text = North   The region.\n\
         -- param period: period = 2024-03   The period.\n\
         SELECT count(*) AS lines, sum(net_amount) AS net FROM sales\n\
         WHERE region = $region AND order_date BETWEEN $period_start AND $period_end\n",
    )
    .unwrap();
    std::fs::write(
        folder.join("needs_value.sql"),
        "-- description: Needs a value.\n-- param n: integer   How many.\nSELECT * FROM sales LIMIT $n\n",
    )
    .unwrap();
    project
}

#[test]
fn bi_tools_find_tables_columns_and_views_in_the_catalogue() {
    if !tool("psql") || !tool("openssl") {
        return;
    }
    let server = Server::start_project(
        project_with_saved_queries(),
        "[queries]\nfolder = \"queries\"\n",
    );
    // psql's own catalogue commands.
    let tables = server.ask("ana", ANA, "\\dt");
    let names: Vec<&str> = tables
        .lines()
        .map(|l| l.split('|').nth(1).unwrap())
        .collect();
    assert_eq!(names, CANONICAL, "{tables}");
    assert!(
        tables
            .lines()
            .all(|l| l.starts_with("main|") && l.ends_with("|table|ana")),
        "{tables}"
    );
    let views = server.ask("ana", ANA, "\\dv");
    assert_eq!(
        views, "main|kpi_monthly|view|ana\nmain|north_lines|view|ana",
        "{views}"
    );
    // DOMAIN.md: sales.net_amount is DECIMAL(18,4), order_date a DATE.
    let sales = server.ask("ana", ANA, "\\d sales");
    assert!(sales.contains("net_amount|numeric(18,4)|"), "{sales}");
    assert!(sales.contains("order_date|date|"), "{sales}");
    assert!(sales.contains("quantity|bigint|"), "{sales}");
    assert_eq!(
        server.ask("ana", ANA, "select version() like 'PostgreSQL 16.0%', current_user, current_database(), current_schema()"),
        "t|ana|opskpi|main"
    );
    // A viewer's catalogue holds the indicator relations only.
    let output = server.psql("vic", VIC, "verify-full", "\\dt");
    assert!(
        stderr(&output).contains("Did not find any"),
        "{}",
        stderr(&output)
    );
    assert_eq!(server.ask("vic", VIC, "\\dv"), "main|kpi_monthly|view|vic");
    // The saved query with defaults, as a view: March 2024's North lines,
    // counted and summed from the CSV.
    let csv = std::fs::read_to_string(server.dir.join("sales.csv")).unwrap();
    let north: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|f| f[7] == "North" && f[2].starts_with("2024-03"))
        .collect();
    let cents: i64 = north
        .iter()
        .map(|f| (f[10].parse::<f64>().unwrap() * 100.0).round() as i64)
        .sum();
    assert_eq!(
        server.ask("ana", ANA, "select lines, net from north_lines"),
        format!("{}|{}.{:02}00", north.len(), cents / 100, cents % 100)
    );
    let output = server.psql("ana", ANA, "verify-full", "select * from needs_value");
    assert!(
        stderr(&output).contains("needs_value"),
        "{}",
        stderr(&output)
    );
    // What DBeaver, Metabase, psql, pgcli, pgAdmin, ADBC, Npgsql (Power
    // BI), psqlODBC and Tableau send on connect and when browsing: every
    // one answered, through psycopg-free rust-postgres' simple protocol.
    let replay: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/startup_queries.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let mut client = server.driver("ana", ANA);
    let mut failed = Vec::new();
    let mut answered = 0;
    for (tool, queries) in replay.as_object().unwrap() {
        for query in queries.as_array().into_iter().flatten() {
            let query = query.as_str().unwrap();
            match client.simple_query(query) {
                Ok(_) => answered += 1,
                Err(error) => failed.push(format!("{tool}: {query}\n  {error:?}")),
            }
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
    assert!(answered >= 70, "{answered}");
    // Npgsql loads its types from pg_type joined to pg_proc: the numeric
    // and text types and their arrays must be there with PostgreSQL's oids.
    let types: Vec<(String, i64)> = client
        .query(
            "SELECT a.typname::text, a.oid::int8 FROM pg_type a JOIN pg_proc ON pg_proc.oid = a.typreceive WHERE a.typname IN ('numeric', '_numeric', 'text', 'date', 'int8') ORDER BY 2",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    let want: Vec<(String, i64)> = [
        ("int8", 20),
        ("text", 25),
        ("date", 1082),
        ("_numeric", 1231),
        ("numeric", 1700),
    ]
    .iter()
    .map(|(n, o)| (n.to_string(), *o))
    .collect();
    assert_eq!(types, want);
    assert!(server.stop().success());
}

#[test]
fn jdbc_lists_tables_and_columns_and_prepares_past_its_threshold() {
    let jar = std::env::var("OPSKPI_TEST_JDBC_JAR")
        .unwrap_or_else(|_| "/usr/share/java/postgresql.jar".into());
    if !Path::new(&jar).exists() || !tool("javac") || !tool("java") {
        if std::env::var_os("CI").is_some() {
            panic!("CI must provide javac, java and the PostgreSQL JDBC driver ({jar})");
        }
        eprintln!("skipped: no JDBC driver at {jar} or no JDK");
        return;
    }
    if !tool("openssl") {
        return;
    }
    let server = Server::start();
    let classes = tempfile::tempdir().unwrap();
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/JdbcCheck.java");
    let compiled = Command::new("javac")
        .arg("-d")
        .arg(classes.path())
        .arg(&source)
        .output()
        .unwrap();
    assert!(compiled.status.success(), "{}", stderr(&compiled));
    let run = |user: &str, password: &str| {
        let output = Command::new("java")
            .arg("-cp")
            .arg(format!("{jar}:{}", classes.path().display()))
            .arg("JdbcCheck")
            .arg(format!(
                "jdbc:postgresql://localhost:{}/opskpi?sslmode=verify-full&sslrootcert={}",
                server.port,
                server.dir.join("ca.crt").display()
            ))
            .args([user, password])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}\n{}",
            stdout(&output),
            stderr(&output)
        );
        stdout(&output)
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<std::collections::BTreeMap<String, String>>()
    };
    let ana = run("ana", ANA);
    assert_eq!(ana["product"], "PostgreSQL 16");
    assert!(
        ana["schemas"].split(',').any(|s| s == "main"),
        "{}",
        ana["schemas"]
    );
    // pgJDBC orders by type then name: the tables, then the view.
    let mut want: Vec<String> = CANONICAL.iter().map(|t| format!("{t}:TABLE")).collect();
    want.push("kpi_monthly:VIEW".into());
    assert_eq!(ana["tables"], want.join(","));
    // The model's sales (src/model.rs: text, a date, quantity an integer
    // stored as BIGINT, money as DECIMAL(18,4)) in PostgreSQL's names and
    // java.sql.Types: VARCHAR 12, DATE 91, BIGINT -5 with 19 digits, NUMERIC
    // 2 with 18 and 4; ordinal positions as in DOMAIN.md's column list.
    let columns = &ana["columns.sales"];
    for expected in [
        "order_id:text:12:",
        "order_date:date:91:",
        "quantity:int8:-5:19:0:10",
        "net_amount:numeric:2:18:4:11",
        "cost_amount:numeric:2:18:4:12",
    ] {
        assert!(columns.contains(expected), "{expected} in {columns}");
    }
    assert!(
        ana["columns.kpi_monthly"].contains("indicator:text:12:"),
        "{}",
        ana["columns.kpi_monthly"]
    );
    // Hand-worked (indicators.rs): March 2024, North 2000 and South 180,
    // on the 7th execution (server-side prepared from the 5th).
    assert_eq!(
        ana["kpi"],
        "North:2000.000000000000000000,South:180.000000000000000000"
    );
    assert_eq!(ana["error"], "42P01");
    assert_eq!(ana["after_error"], "true");
    // A viewer's driver finds only the indicator relation.
    let vic = run("vic", VIC);
    assert_eq!(vic["tables"], "kpi_monthly:VIEW");
    assert!(vic["columns.sales"].is_empty());
    assert!(server.stop().success());
}

#[test]
fn the_assessments_tables_are_served_to_the_hr_role_alone() {
    if !tool("psql") || !tool("openssl") {
        return;
    }
    let project = copy_fixture("tiny", "");
    let root = project.path();
    std::fs::write(
        root.join("employees.csv"),
        "employee_id,name,role,region,email\nE1,North manager,regional_manager,North,\nE2,South manager,regional_manager,South,\nE3,North clerk,clerk,North,\n",
    )
    .unwrap();
    let mut config = std::fs::read_to_string(root.join("opskpi.toml")).unwrap();
    config.push_str("\n[[sources]]\ntable = \"employees\"\npath = \"employees.csv\"\n");
    std::fs::write(root.join("opskpi.toml"), &config).unwrap();
    let output = opskpi(&["ingest", "--config", &config_arg(root), "--quiet"]);
    assert!(output.status.success(), "{}", stderr(&output));
    // An hr user with a scope is refused before anything is served.
    std::fs::write(
        root.join("scoped-hr.toml"),
        format!(
            "{config}\n[serve]\nlisten = \"127.0.0.1:{}\"\nplaintext_on_loopback = true\n\n{}scope = {{ region = \"North\" }}\n",
            free_port(),
            passwd("hana", "hana-Pa55-word", "hr")
        ),
    )
    .unwrap();
    let refused = opskpi(&[
        "serve",
        "--config",
        &root.join("scoped-hr.toml").display().to_string(),
    ]);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("cannot have a scope"),
        "{}",
        stderr(&refused)
    );
    std::fs::remove_file(root.join("scoped-hr.toml")).unwrap();
    let server = Server::start_project(project, &passwd("hana", "hana-Pa55-word", "hr"));
    // The three lines of employees.csv, for hr alone.
    assert_eq!(
        server.ask("hana", "hana-Pa55-word", "select count(*) from employees"),
        "3"
    );
    assert_eq!(
        server.ask(
            "hana",
            "hana-Pa55-word",
            "select value from kpi('net_sales', '2024-03')"
        ),
        "2180.000000000000000000"
    );
    assert_eq!(
        server.ask("ana", ANA, "select count(*) from employees"),
        "0"
    );
    let viewer = server.psql("vic", VIC, "verify-full", "select count(*) from employees");
    assert!(!viewer.status.success());
    assert!(server.stop().success());
}

#[test]
fn an_expired_certificate_is_refused_by_clients_and_named_in_the_log() {
    if !tool("psql") || !tool("openssl") {
        return;
    }
    let server = Server::start_with_certificate(tiny_project(), "", "-1");
    // The operator is told at start.
    assert!(
        server
            .log()
            .contains("TLS certificate (serve.tls_cert) expired on"),
        "{}",
        server.log()
    );
    // A client that verifies the certificate refuses it …
    let refused = server.psql("ana", ANA, "verify-full", "select 1");
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("certificate verify failed"),
        "{}",
        stderr(&refused)
    );
    // … the server goes on: a client that only asks for encryption (no
    // root certificate to verify with) gets in.
    let unverified = Command::new("psql")
        .arg(format!(
            "host=127.0.0.1 port={} user=ana dbname=opskpi sslmode=require sslrootcert={}",
            server.port,
            server.dir.join("no-such-ca.crt").display()
        ))
        .args(["-X", "-A", "-t", "-c", "select 41 + 1"])
        .env("PGPASSWORD", ANA)
        .env_remove("PGSSLROOTCERT")
        .output()
        .unwrap();
    assert_eq!(stdout(&unverified).trim(), "42", "{}", stderr(&unverified));
    assert!(server.stop().success());
}

#[test]
fn a_driver_s_long_answer_streams_through_the_extended_protocol() {
    if !tool("openssl") {
        return;
    }
    let server = Server::start();
    let mut client = server.driver("ana", ANA);
    let before = resident_kb(server.child.id());
    // Thirty million rows through Parse/Bind/Execute, read one by one: held
    // whole before the first was sent (as pgwire's own Execute does), they
    // would take the server's memory up by gigabytes.
    let mut rows = client
        .query_raw(
            "select i from range(30000000) t(i)",
            std::iter::empty::<i32>(),
        )
        .unwrap();
    let mut count = 0u64;
    let mut sum = 0i64;
    let mut peak = before;
    while let Some(row) = postgres::fallible_iterator::FallibleIterator::next(&mut rows).unwrap() {
        sum += row.get::<_, i64>(0);
        count += 1;
        if count.is_multiple_of(1_000_000) {
            peak = peak.max(resident_kb(server.child.id()));
        }
    }
    assert_eq!(count, 30_000_000);
    // 0 + 1 + … + (n − 1) = n (n − 1) / 2
    assert_eq!(sum, 30_000_000 * 29_999_999 / 2);
    assert!(
        peak < before + 400 * 1024,
        "resident memory {before} kB before, {peak} kB while streaming"
    );
    assert!(server.stop().success());
}
