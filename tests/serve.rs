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
/// would be.
fn certificate(dir: &Path) -> (PathBuf, PathBuf) {
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
        "2",
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
        let project = tiny_project();
        let dir = project.path().to_path_buf();
        let (cert, key) = certificate(&dir);
        let port = free_port();
        let mut config = std::fs::read_to_string(dir.join("opskpi.toml")).unwrap();
        config.push_str(&format!(
            "\n[serve]\nlisten = \"127.0.0.1:{port}\"\ntls_cert = \"{}\"\ntls_key = \"{}\"\nrefresh_seconds = 1\n\n{}\n{}",
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
