//! Reports and alerts delivered to real servers: `.ci/run` starts a mail
//! server (aiosmtpd, STARTTLS and AUTH, and implicit TLS) and a webhook
//! receiver on 127.0.0.1 with tests/servers/sink.py, which keep what they
//! receive; the tests read it back as a mail client would (mail-parser)
//! and check recipients, subjects, words of both languages, attachments
//! byte for byte, and that every message arrives once — through a server
//! that is down, says 421 once, refuses a recipient, and a run killed
//! after its second message. Without the servers the tests say so and
//! pass locally; under CI they fail.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use mail_parser::{MessageParser, MimeHeaders};

use crate::cmd::*;
use crate::common::*;

/// The servers `.ci/run` started, from its environment.
struct Sink {
    dir: PathBuf,
    ca: String,
    port: String,
    tls_port: String,
    hook: String,
}

fn sink() -> Option<Sink> {
    let var = |name: &str| std::env::var(name).ok();
    match (var("OPSKPI_TEST_SMTP_DIR"), var("OPSKPI_TEST_SMTP_CA")) {
        (Some(dir), Some(ca)) => Some(Sink {
            dir: PathBuf::from(dir),
            ca,
            port: var("OPSKPI_TEST_SMTP_PORT").unwrap_or("2525".into()),
            tls_port: var("OPSKPI_TEST_SMTPS_PORT").unwrap_or("2465".into()),
            hook: var("OPSKPI_TEST_HOOK_URL").unwrap_or("http://127.0.0.1:8025".into()),
        }),
        _ if std::env::var_os("CI").is_some() => {
            panic!("CI must start the mail server: OPSKPI_TEST_SMTP_DIR and OPSKPI_TEST_SMTP_CA")
        }
        _ => {
            eprintln!("skipped: no mail server (OPSKPI_TEST_SMTP_DIR is not set)");
            None
        }
    }
}

/// A token no other test (or earlier run of this one) uses, for addresses.
fn token() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("t{}x{nanos}", std::process::id())
}

/// A message the mail server accepted: its envelope and bytes.
struct Received {
    rcpt: Vec<String>,
    login: Option<String>,
    tls: bool,
    bytes: Vec<u8>,
}

/// Every message the server accepted for an address holding `token`.
fn received(sink: &Sink, token: &str) -> Vec<Received> {
    let mut found = Vec::new();
    let mut names: Vec<PathBuf> = std::fs::read_dir(&sink.dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    names.sort();
    for eml in names {
        // The server keeps every test's messages in one folder: a message
        // another test is being sent at this moment may not have its
        // record written yet (this test's own were complete before its
        // run returned).
        let Ok(meta) = serde_json::from_str::<serde_json::Value>(
            &std::fs::read_to_string(eml.with_extension("json")).unwrap_or_default(),
        ) else {
            continue;
        };
        let rcpt: Vec<String> = meta["rcpt_tos"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap().to_string())
            .collect();
        if rcpt.iter().any(|r| r.contains(token)) {
            found.push(Received {
                rcpt,
                login: meta["login"].as_str().map(str::to_string),
                tls: meta["tls"].as_bool().unwrap(),
                bytes: std::fs::read(&eml).unwrap(),
            });
        }
    }
    found
}

/// The webhook posts to paths holding `token`: (status answered, body).
fn posts(sink: &Sink, token: &str) -> Vec<(u64, serde_json::Value)> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(&sink.dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("http-")
                && p.extension().is_some_and(|e| e == "json")
        })
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|p| {
            serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(p).unwrap()).unwrap()
        })
        .filter(|r| r["path"].as_str().unwrap().contains(token))
        .map(|r| {
            (
                r["status"].as_u64().unwrap(),
                serde_json::from_str(r["body"].as_str().unwrap()).unwrap(),
            )
        })
        .collect()
}

/// The tiny company with regional managers in its employees, the mail
/// server in its configuration, and a pipeline of `steps` for March 2024.
fn project(sink: &Sink, token: &str, smtp: &str, steps: &str) -> tempfile::TempDir {
    let dir = copy_fixture("tiny", "");
    let root = dir.path();
    std::fs::write(
        root.join("employees.csv"),
        format!(
            "employee_id,name,role,region,email\n\
             E1,North manager,regional_manager,North,north.mgr.{token}@example.com.tw\n\
             E2,South manager,regional_manager,South,south.mgr.{token}@example.com.tw\n\
             E3,North clerk,clerk,North,clerk.{token}@example.com.tw\n\
             E4,East manager,regional_manager,East,\n"
        ),
    )
    .unwrap();
    let mut config = std::fs::read_to_string(root.join("opskpi.toml")).unwrap();
    config.push_str(&format!(
        "\n[[sources]]\ntable = \"employees\"\npath = \"employees.csv\"\n\n\
         [smtp]\nhost = \"localhost\"\nport = {}\nuser = \"opskpi\"\npassword_env = \"OPSKPI_TEST_SMTP_PASSWORD\"\n\
         from = \"opskpi <reports@example.com.tw>\"\nreply_to = \"ops@example.com.tw\"\nca_file = \"{}\"\ntimeout_seconds = 20\n{smtp}\n\
         [delivery]\nretries = 2\nretry_wait_seconds = 0.05\n",
        sink.port, sink.ca
    ));
    std::fs::write(root.join("opskpi.toml"), config).unwrap();
    std::fs::create_dir(root.join("pipelines")).unwrap();
    std::fs::write(
        root.join("pipelines").join("close.toml"),
        format!("config = \"../opskpi.toml\"\nperiod = \"2024-03\"\nout = \"../out/{{period}}\"\n\n[[steps]]\nstep = \"ingest\"\n{steps}"),
    )
    .unwrap();
    dir
}

fn run(project: &Path, extra: &[&str], env: &[(&str, &str)]) -> Output {
    let pipeline = project.join("pipelines").join("close.toml");
    let mut command = Command::new(env!("CARGO_BIN_EXE_opskpi"));
    command
        .args(["run", pipeline.to_str().unwrap(), "--as-of", "2024-12-31"])
        .args(extra)
        .env_remove("OPSKPI_CONFIG")
        .env_remove("OPSKPI_FAIL_POINTS");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().unwrap()
}

/// The deliveries of run `n` as (recipient, status, attempts) rows.
fn deliveries(project: &Path, n: i64) -> Vec<(String, String, i64)> {
    let output = opskpi(&[
        "runs",
        "--config",
        &config_arg(project),
        "--run",
        &n.to_string(),
        "--deliveries",
        "--format",
        "json",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let rows: Vec<serde_json::Value> = serde_json::from_str(&stdout(&output)).unwrap();
    rows.iter()
        .map(|r| {
            (
                r["recipient"].as_str().unwrap().to_string(),
                r["status"].as_str().unwrap().to_string(),
                r["attempts"].as_i64().unwrap(),
            )
        })
        .collect()
}

const REPORTS: &str = r#"
[[steps]]
step = "report"
formats = ["html", "pdf"]
languages = ["zh-Hant", "en"]

[[steps]]
step = "report"
formats = ["html", "pdf"]
languages = ["zh-Hant"]
each = "region"
"#;

fn deliver(token: &str) -> String {
    format!(
        r#"
[[steps]]
step = "deliver"
language = "zh-Hant"
[steps.to]
company = ["gm.{token}@example.com.tw", "director.{token}@example.com.tw"]
"region:North" = ["north.extra.{token}@example.com.tw"]
"region:*" = {{ employees_with_role = "regional_manager" }}
"#
    )
}

#[test]
fn each_edition_reaches_its_readers_once_in_their_language_with_the_report_attached() {
    let Some(sink) = sink() else { return };
    let token = token();
    let project = project(&sink, &token, "", &format!("{REPORTS}{}", deliver(&token)));
    let dir = project.path();
    let first = run(dir, &[], &[]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let got = received(&sink, &token);
    // One transaction per recipient: the company's two, North's two (the
    // list and its manager from the employees table), South's manager.
    let mut rcpts: Vec<String> = got.iter().flat_map(|r| r.rcpt.clone()).collect();
    rcpts.sort();
    let at = |name: &str| format!("{name}.{token}@example.com.tw");
    assert_eq!(
        rcpts,
        [
            at("director"),
            at("gm"),
            at("north.extra"),
            at("north.mgr"),
            at("south.mgr")
        ]
    );
    let out = dir.join("out").join("2024-03");
    for message in &got {
        assert!(message.tls, "the message went over TLS");
        assert_eq!(message.login.as_deref(), Some("opskpi"));
        let parsed = MessageParser::default().parse(&message.bytes).unwrap();
        let subject = parsed.subject().unwrap();
        let rcpt = &message.rcpt[0];
        let (file, edition) = if rcpt.contains("north") {
            ("monthly-2024-03-region-North.zh-Hant.pdf", "：North")
        } else if rcpt.contains("south") {
            ("monthly-2024-03-region-South.zh-Hant.pdf", "：South")
        } else {
            ("monthly-2024-03.zh-Hant.pdf", "")
        };
        // The report's own title in Traditional Chinese: 營運報告 + the
        // month as the report writes it, the edition after a full-width colon.
        assert_eq!(
            subject,
            format!("營運報告 2024年3月{edition} — Tiny Test Co <b>&</b>")
        );
        let text = parsed.body_text(0).unwrap();
        let html = parsed.body_html(0).unwrap();
        for words in ["重點摘要", "完整報表見附件", file] {
            assert!(text.contains(words), "{words} in\n{text}");
            assert!(html.contains(words), "{words} in the HTML");
        }
        assert!(
            html.contains("Tiny Test Co &lt;b&gt;&amp;&lt;&#x2f;b&gt;"),
            "the company name is escaped in HTML:\n{html}"
        );
        assert!(
            !html.contains("<img") && !html.contains("http"),
            "no external image or link"
        );
        let attachments: Vec<_> = parsed.attachments().collect();
        assert_eq!(
            attachments.len(),
            1,
            "the PDF only (attach defaults to pdf)"
        );
        assert_eq!(attachments[0].attachment_name(), Some(file));
        assert_eq!(
            attachments[0].contents(),
            std::fs::read(out.join(file)).unwrap()
        );
        assert_eq!(
            parsed.from().unwrap().first().unwrap().address(),
            Some("reports@example.com.tw")
        );
        assert!(parsed.message_id().unwrap().starts_with("opskpi."));
    }
    // Both of North's readers got one message: the same Message-ID.
    let north: Vec<String> = got
        .iter()
        .filter(|r| r.rcpt[0].contains("north"))
        .map(|r| {
            MessageParser::default()
                .parse(&r.bytes)
                .unwrap()
                .message_id()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(north.len(), 2);
    assert_eq!(north[0], north[1]);
    assert!(deliveries(dir, 1)
        .iter()
        .all(|(_, status, attempts)| status == "sent" && *attempts == 1));

    // The same period again: nothing already sent goes out.
    let second = run(dir, &[], &[]);
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
    assert_eq!(received(&sink, &token).len(), 5);
    let rows = deliveries(dir, 2);
    assert_eq!(rows.len(), 5);
    assert!(
        rows.iter().all(|(_, status, _)| status == "already_sent"),
        "{rows:?}"
    );
    // `--resend` forces it.
    let third = run(dir, &["--resend"], &[]);
    assert_eq!(third.status.code(), Some(0), "{}", stderr(&third));
    assert_eq!(received(&sink, &token).len(), 10);
    // `opskpi runs --run 1` on a terminal shows the deliveries under the steps.
    let shown = opskpi(&["runs", "--config", &config_arg(dir), "--run", "1"]);
    let shown = stdout(&shown);
    assert!(
        shown.contains("deliveries of run 1") && shown.contains(&at("north.mgr")),
        "{shown}"
    );
}

#[test]
fn an_english_report_and_its_alerts_by_email_over_implicit_tls() {
    let Some(sink) = sink() else { return };
    let token = token();
    let steps = format!(
        r#"
[[steps]]
step = "report"
formats = ["pdf"]

[[steps]]
step = "alert"
[[steps.rules]]
name = "March sales at most 2180"
indicator = "net_sales"
at_most = 2180
[[steps.rules]]
name = "never fires"
indicator = "net_sales"
below = 1

[[steps]]
step = "deliver"
# The same reader twice, once with a name: one message, to the name.
to = {{ company = ["gm.{token}@example.com.tw", "總經理 Gm <gm.{token}@example.com.tw>"] }}

[[steps]]
step = "notify"
email = ["alerts.{token}@example.com.tw"]
"#
    );
    let project = project(&sink, &token, "security = \"tls\"", &steps);
    // Implicit TLS on its own port.
    let config = project.path().join("opskpi.toml");
    let text = std::fs::read_to_string(&config).unwrap().replace(
        &format!("port = {}", sink.port),
        &format!("port = {}", sink.tls_port),
    );
    std::fs::write(&config, text).unwrap();
    let output = run(project.path(), &[], &[]);
    // The tiny company's March 2024 net sales are 2,180 (tests/indicators.rs):
    // the first rule fires, so the run exits 3, after every step.
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let got = received(&sink, &token);
    assert_eq!(got.len(), 2);
    let report = got.iter().find(|r| r.rcpt[0].contains("gm.")).unwrap();
    let parsed = MessageParser::default().parse(&report.bytes).unwrap();
    assert_eq!(
        parsed.subject(),
        Some("Operations report March 2024 — Tiny Test Co <b>&</b>")
    );
    let to = parsed.to().unwrap().first().unwrap();
    assert_eq!(to.name(), Some("總經理 Gm"));
    assert_eq!(to.address(), Some(&*format!("gm.{token}@example.com.tw")));
    assert_eq!(report.rcpt, [format!("gm.{token}@example.com.tw")]);
    let text = parsed.body_text(0).unwrap();
    assert!(
        text.contains("Highlights")
            && text.contains("The full report is attached: monthly-2024-03.pdf."),
        "{text}"
    );
    let alerts = got.iter().find(|r| r.rcpt[0].contains("alerts.")).unwrap();
    let parsed = MessageParser::default().parse(&alerts.bytes).unwrap();
    assert_eq!(parsed.subject(), Some("1 alert fired: close, 2024-03"));
    let text = parsed.body_text(0).unwrap();
    assert!(
        text.contains("March sales at most 2180")
            && text.contains("value ≤ 2180")
            && text.contains("= 2180"),
        "{text}"
    );
    assert!(!text.contains("never fires"), "a clear rule is not sent");
    assert_eq!(parsed.attachments().count(), 0);
}

#[test]
fn a_report_over_the_size_limit_is_linked_not_attached_and_the_message_says_so() {
    let Some(sink) = sink() else { return };
    let token = token();
    let steps = format!(
        r#"
[[steps]]
step = "report"
formats = ["html", "pdf"]

[[steps]]
step = "deliver"
attach = ["pdf", "html"]
to = {{ company = ["gm.{token}@example.com.tw"] }}
"#
    );
    let project = project(&sink, &token, "", &steps);
    // A limit of 0 MB: any report is too large, so none is attached.
    let config = project.path().join("opskpi.toml");
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "[delivery]\n",
        "[delivery]\nmax_attachment_mb = 0\nlink = \"https://intranet.example.com.tw/reports/{file}\"\n",
    );
    std::fs::write(&config, text).unwrap();
    let output = run(project.path(), &[], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let got = received(&sink, &token);
    assert_eq!(got.len(), 1);
    let parsed = MessageParser::default().parse(&got[0].bytes).unwrap();
    assert_eq!(parsed.attachments().count(), 0, "nothing attached");
    // Both files' bytes, in whole KB of 1024 bytes (the tiny report is
    // well under 1 MB), as the sentence says them.
    let out = project.path().join("out").join("2024-03");
    let size: u64 = ["monthly-2024-03.pdf", "monthly-2024-03.html"]
        .iter()
        .map(|f| std::fs::metadata(out.join(f)).unwrap().len())
        .sum();
    assert!(size < 1 << 20);
    let text = parsed.body_text(0).unwrap();
    // As a mail client shows the HTML: minijinja escapes the slashes.
    let html = parsed.body_html(0).unwrap().replace("&#x2f;", "/");
    for body in [&*text, &*html] {
        assert!(
            body.contains(&format!(
                "The report ({} KB) is larger than the 0 KB a message may carry here, so it is not attached. It is at: \
                 https://intranet.example.com.tw/reports/monthly-2024-03.html, https://intranet.example.com.tw/reports/monthly-2024-03.pdf",
                (size as f64 / 1024.0).round()
            )),
            "{body}"
        );
        assert!(
            body.contains("Highlights"),
            "the summary is still there: {body}"
        );
    }
}

#[test]
fn a_server_that_is_down_fails_the_step_and_the_next_run_sends_everything() {
    let Some(sink) = sink() else { return };
    let token = token();
    let project = project(&sink, &token, "", &format!("{REPORTS}{}", deliver(&token)));
    let dir = project.path();
    let config = dir.join("opskpi.toml");
    let good = std::fs::read_to_string(&config).unwrap();
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    std::fs::write(
        &config,
        good.replace(
            &format!("port = {}", sink.port),
            &format!("port = {closed}"),
        ),
    )
    .unwrap();
    let down = run(dir, &[], &[]);
    assert_eq!(down.status.code(), Some(5), "{}", stderr(&down));
    let err = stderr(&down);
    assert!(
        err.contains(&format!("gm.{token}@example.com.tw"))
            && err.contains("still failing after 3 attempts"),
        "{err}"
    );
    assert!(received(&sink, &token).is_empty());
    let rows = deliveries(dir, 1);
    assert_eq!(rows.len(), 5);
    assert!(
        rows.iter()
            .all(|(_, status, attempts)| status == "failed" && *attempts == 3),
        "{rows:?}"
    );
    std::fs::write(&config, good).unwrap();
    let back = run(dir, &[], &[]);
    assert_eq!(back.status.code(), Some(0), "{}", stderr(&back));
    assert_eq!(received(&sink, &token).len(), 5);
}

#[test]
fn a_421_is_retried_and_a_550_fails_the_step_naming_the_recipient_only() {
    let Some(sink) = sink() else { return };
    let token = token();
    let steps = format!(
        r#"{REPORTS}
[[steps]]
step = "deliver"
language = "zh-Hant"
to = {{ company = ["busy+tempfail.{token}@example.com.tw", "gone+reject.{token}@example.com.tw", "gm.{token}@example.com.tw"] }}
"#
    );
    let project = project(&sink, &token, "", &steps);
    let dir = project.path();
    let output = run(dir, &[], &[]);
    assert_eq!(output.status.code(), Some(5), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(
        err.contains(&format!("gone+reject.{token}@example.com.tw")) && err.contains("550"),
        "{err}"
    );
    assert!(
        !err.contains(&format!("gm.{token}@example.com.tw:")),
        "{err}"
    );
    let mut rcpts: Vec<String> = received(&sink, &token)
        .into_iter()
        .flat_map(|r| r.rcpt)
        .collect();
    rcpts.sort();
    assert_eq!(
        rcpts,
        [
            format!("busy+tempfail.{token}@example.com.tw"),
            format!("gm.{token}@example.com.tw")
        ]
    );
    let rows: BTreeMap<String, (String, i64)> = deliveries(dir, 1)
        .into_iter()
        .map(|(r, s, a)| (r.split('.').next().unwrap().to_string(), (s, a)))
        .collect();
    assert_eq!(
        rows["busy+tempfail"],
        ("sent".into(), 2),
        "421 once, then 250"
    );
    assert_eq!(
        rows["gone+reject"],
        ("failed".into(), 1),
        "550 is not retried"
    );
    assert_eq!(rows["gm"], ("sent".into(), 1));
    // The run again: only the refused recipient is tried again.
    let again = run(dir, &[], &[]);
    assert_eq!(again.status.code(), Some(5));
    assert_eq!(received(&sink, &token).len(), 2);
}

#[test]
fn a_run_killed_after_its_second_message_sends_only_the_rest_next_time() {
    let Some(sink) = sink() else { return };
    let token = token();
    let steps = format!(
        r#"{REPORTS}
[[steps]]
step = "deliver"
language = "zh-Hant"
[steps.to]
company = ["a.{token}@example.com.tw", "b.{token}@example.com.tw"]
"region:*" = {{ employees_with_role = "regional_manager" }}
"#
    );
    let project = project(&sink, &token, "", &steps);
    let dir = project.path();
    let killed = run(dir, &[], &[("OPSKPI_FAIL_POINTS", "after_delivery#2=kill")]);
    assert_eq!(killed.status.code(), None, "killed by a signal");
    assert_eq!(received(&sink, &token).len(), 2);
    let rerun = run(dir, &[], &[]);
    assert_eq!(rerun.status.code(), Some(0), "{}", stderr(&rerun));
    let mut rcpts: Vec<String> = received(&sink, &token)
        .into_iter()
        .flat_map(|r| r.rcpt)
        .collect();
    rcpts.sort();
    let at = |name: &str| format!("{name}.{token}@example.com.tw");
    // Exactly four in all: each recipient once.
    assert_eq!(rcpts, [at("a"), at("b"), at("north.mgr"), at("south.mgr")]);
    let rows = deliveries(dir, 2);
    let already = rows.iter().filter(|(_, s, _)| s == "already_sent").count();
    let sent = rows.iter().filter(|(_, s, _)| s == "sent").count();
    assert_eq!((already, sent), (2, 2), "{rows:?}");
}

#[cfg(unix)]
#[test]
fn a_run_that_finds_another_delivering_waits_then_stops_and_sends_nothing_twice() {
    let Some(sink) = sink() else { return };
    let token = token();
    let project = project(&sink, &token, "", &format!("{REPORTS}{}", deliver(&token)));
    let dir = project.path();
    // Another run delivering: it holds the outbox's lease, the lock file
    // beside the warehouse (docs/delivery.md), for as long as it lives.
    let config = dir.join("opskpi.toml");
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "path = \"warehouse.duckdb\"",
        "path = \"warehouse.duckdb\"\nwait_seconds = 1",
    );
    std::fs::write(&config, text).unwrap();
    let other = std::fs::File::create(dir.join("warehouse.duckdb.deliveries.lock")).unwrap();
    // SAFETY: flock on a descriptor this test owns.
    let locked = unsafe {
        libc::flock(
            std::os::fd::AsRawFd::as_raw_fd(&other),
            libc::LOCK_EX | libc::LOCK_NB,
        )
    };
    assert_eq!(locked, 0);
    let output = run(dir, &[], &[]);
    assert_eq!(output.status.code(), Some(5), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("another opskpi run is delivering through this warehouse"),
        "{}",
        stderr(&output)
    );
    assert!(received(&sink, &token).is_empty());
    // It ended: the next run sends all five.
    drop(other);
    let output = run(dir, &[], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(received(&sink, &token).len(), 5);
}

#[test]
fn a_dry_run_writes_each_message_as_a_file_and_sends_nothing() {
    let Some(sink) = sink() else { return };
    let token = token();
    let project = project(&sink, &token, "", &format!("{REPORTS}{}", deliver(&token)));
    let dir = project.path();
    let output = run(dir, &["--dry-run"], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(received(&sink, &token).is_empty());
    let out = dir.join("out").join("2024-03");
    let eml = std::fs::read(out.join("monthly-2024-03-region-North.zh-Hant.eml")).unwrap();
    let parsed = MessageParser::default().parse(&eml).unwrap();
    let to: Vec<&str> = parsed
        .to()
        .unwrap()
        .iter()
        .filter_map(|a| a.address())
        .collect();
    assert_eq!(
        to,
        [
            format!("north.extra.{token}@example.com.tw"),
            format!("north.mgr.{token}@example.com.tw")
        ]
    );
    let pdf = parsed.attachments().next().unwrap();
    assert_eq!(
        pdf.contents(),
        std::fs::read(out.join("monthly-2024-03-region-North.zh-Hant.pdf")).unwrap()
    );
    assert!(
        out.join("monthly-2024-03.zh-Hant.eml").exists()
            && out
                .join("monthly-2024-03-region-South.zh-Hant.eml")
                .exists()
    );
    assert!(deliveries(dir, 1).iter().all(|(_, s, _)| s == "dry_run"));
    // A dry run sends nothing, so the real run after it sends everything.
    let real = run(dir, &[], &[]);
    assert_eq!(real.status.code(), Some(0), "{}", stderr(&real));
    assert_eq!(received(&sink, &token).len(), 5);
}

#[test]
fn fired_alerts_reach_a_teams_or_slack_webhook_once_through_a_429() {
    let Some(sink) = sink() else { return };
    let token = token();
    let steps = r#"
[[steps]]
step = "alert"
[[steps.rules]]
name = "March sales at most 2180"
indicator = "net_sales"
at_most = 2180
[[steps.rules]]
indicator = "net_sales"
where = { region = "North" }
below = 1000000

[[steps]]
step = "notify"
webhook_env = "OPSKPI_TEST_TEAMS"
webhook_format = "teams"

[[steps]]
step = "notify"
webhook_env = "OPSKPI_TEST_SLACK"
webhook_format = "slack"
"#;
    let project = project(&sink, &token, "", steps);
    let dir = project.path();
    let teams = format!("{}/hook/{token}/teams/429-once", sink.hook);
    let slack = format!("{}/hook/{token}/slack/ok", sink.hook);
    let env = [
        ("OPSKPI_TEST_TEAMS", teams.as_str()),
        ("OPSKPI_TEST_SLACK", slack.as_str()),
    ];
    let output = run(dir, &[], &env);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let all = posts(&sink, &token);
    assert_eq!(
        all.iter().map(|(status, _)| *status).collect::<Vec<_>>(),
        [429, 200, 200],
        "Teams 429 then 200, Slack 200"
    );
    let card = &all[1].1["attachments"][0];
    assert_eq!(
        card["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    let body = &card["content"]["body"];
    assert_eq!(body[0]["text"], "2 alerts fired: close, 2024-03");
    let facts = body[2]["facts"].as_array().unwrap();
    assert_eq!(facts.len(), 2);
    assert_eq!(facts[0]["title"], "March sales at most 2180");
    assert!(
        facts[1]["value"].as_str().unwrap().contains("region North"),
        "{}",
        facts[1]
    );
    let slack_body = &all[2].1;
    assert_eq!(slack_body["text"], "2 alerts fired: close, 2024-03");
    assert!(slack_body["blocks"][2]["text"]["text"]
        .as_str()
        .unwrap()
        .contains("*March sales at most 2180*"));
    // The webhook's address is a secret: never in the log or the outbox.
    let rows = deliveries(dir, 1);
    assert_eq!(
        rows,
        [
            ("$OPSKPI_TEST_SLACK".to_string(), "sent".to_string(), 1),
            ("$OPSKPI_TEST_TEAMS".to_string(), "sent".to_string(), 2)
        ]
    );
    assert!(!stderr(&output).contains(&token));
    // Again: nothing new is posted.
    let again = run(dir, &[], &env);
    assert_eq!(again.status.code(), Some(3));
    assert_eq!(posts(&sink, &token).len(), 3);
}

#[test]
fn mistakes_are_refused_before_any_step_runs_and_secrets_never_show() {
    let Some(sink) = sink() else { return };
    let token = token();
    let refused = |smtp: &str, steps: &str, delivery: &str| {
        let project = project(&sink, &token, smtp, steps);
        let config = project.path().join("opskpi.toml");
        let mut text = std::fs::read_to_string(&config).unwrap();
        text.push_str(delivery);
        std::fs::write(&config, text).unwrap();
        let output = run(project.path(), &[], &[]);
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        assert!(
            !project.path().join("warehouse.duckdb").exists(),
            "nothing ran"
        );
        stderr(&output)
    };
    let outsider = format!(
        "{REPORTS}\n[[steps]]\nstep = \"deliver\"\nto = {{ company = [\"boss@gmail.com\"] }}\n"
    );
    let err = refused("", &outsider, "allowed_domains = [\"example.com.tw\"]\n");
    assert!(
        err.contains("`boss@gmail.com` is outside the allowed domains (example.com.tw)"),
        "{err}"
    );
    let before = format!("\n[[steps]]\nstep = \"deliver\"\nto = {{ company = [\"gm.{token}@example.com.tw\"] }}\n{REPORTS}");
    let err = refused("", &before, "");
    assert!(
        err.contains("no report step before this one writes that monthly report"),
        "{err}"
    );
    let channel = format!("{REPORTS}\n[[steps]]\nstep = \"deliver\"\n[steps.to]\n\"channel:*\" = {{ employees_with_role = \"x\" }}\n");
    let err = refused("", &channel, "");
    assert!(err.contains("employees hold a region and a store"), "{err}");

    // The password's variable unset (a cron job without it): refused before
    // the first step, so nothing is loaded or written; a dry run, which
    // sends nothing, needs no password.
    let unset = project(&sink, &token, "", &format!("{REPORTS}{}", deliver(&token)));
    let without_password = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_opskpi"))
            .args([
                "run",
                unset
                    .path()
                    .join("pipelines")
                    .join("close.toml")
                    .to_str()
                    .unwrap(),
                "--as-of",
                "2024-12-31",
            ])
            .args(extra)
            .env_remove("OPSKPI_CONFIG")
            .env_remove("OPSKPI_FAIL_POINTS")
            .env_remove("OPSKPI_TEST_SMTP_PASSWORD")
            .output()
            .unwrap()
    };
    let output = without_password(&[]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("step 4 (deliver): the environment variable `OPSKPI_TEST_SMTP_PASSWORD` (smtp.password_env) is not set"),
        "{}",
        stderr(&output)
    );
    assert!(
        !unset.path().join("warehouse.duckdb").exists(),
        "nothing ran"
    );
    let output = without_password(&["--dry-run"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(received(&sink, &token).is_empty());

    // The certificate is checked: without the company CA it is refused,
    // at once (no retry helps), and the password shows nowhere.
    let project = project(&sink, &token, "", &format!("{REPORTS}{}", deliver(&token)));
    let config = project.path().join("opskpi.toml");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace(&format!("ca_file = \"{}\"", sink.ca), "");
    std::fs::write(&config, text).unwrap();
    let output = run(project.path(), &[], &[]);
    assert_eq!(output.status.code(), Some(5), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.to_lowercase().contains("certificate"), "{err}");
    assert!(received(&sink, &token).is_empty());
    let rows = deliveries(project.path(), 1);
    assert!(
        rows.iter().all(|(_, s, a)| s == "failed" && *a == 1),
        "{rows:?}"
    );
    let password = std::env::var("OPSKPI_TEST_SMTP_PASSWORD").unwrap();
    let runs = opskpi(&[
        "runs",
        "--config",
        &config_arg(project.path()),
        "--run",
        "1",
        "--format",
        "json",
    ]);
    for text in [
        err,
        stdout(&output),
        stdout(&runs),
        stdout(&opskpi(&[
            "runs",
            "--config",
            &config_arg(project.path()),
            "--run",
            "1",
            "--deliveries",
            "--format",
            "json",
        ])),
    ] {
        assert!(!text.contains(&password));
    }
}
