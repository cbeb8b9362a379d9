//! A Spark Connect client: SQL over gRPC (tonic), answers as Arrow IPC.
//!
//! One session per client (a random UUID, as Spark's clients make it): the
//! temporary views a command creates are visible to the session's later
//! queries, and the session is released when the client is dropped. Every
//! call blocks on the client's own single-threaded runtime, waits at most
//! the configured time, and either returns the whole answer or an error,
//! never a partial result: a stream is complete when it ends with gRPC's
//! OK status (a lost connection ends it with an error status instead), or
//! with Spark's `ResultComplete`.

use std::time::Duration;

use duckdb::arrow::record_batch::RecordBatch;
use tonic::codegen::http::uri::PathAndQuery;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};
use tonic::{Code, Request, Status};

use super::proto::{self, execute_plan_response::ResponseType};
use crate::config::SparkConfig;
use crate::error::{Error, Result};

const EXECUTE_PLAN: &str = "/spark.connect.SparkConnectService/ExecutePlan";
const RELEASE_SESSION: &str = "/spark.connect.SparkConnectService/ReleaseSession";
const CLIENT_TYPE: &str = concat!("opskpi/", env!("CARGO_PKG_VERSION"));
/// Arrow batches Spark sends are at most 4 MiB by default; room for a
/// server configured larger.
const MAX_MESSAGE: usize = 256 * 1024 * 1024;

/// A session on a Spark Connect server.
pub struct Client {
    runtime: tokio::runtime::Runtime,
    channel: Channel,
    token: Option<MetadataValue<Ascii>>,
    session_id: String,
    remote: String,
    query_timeout: Duration,
}

impl Client {
    /// Connects to `[spark] remote` (within its connect timeout) and opens a
    /// session.
    pub fn connect(config: &SparkConfig) -> Result<Client> {
        config.check()?;
        let (host, port) = config.host_port()?;
        let token = token(config)?;
        let tls = config.tls || token.is_some() || config.ca_file.is_some();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let scheme = if tls { "https" } else { "http" };
        let address = if host.contains(':') {
            format!("{scheme}://[{host}]:{port}")
        } else {
            format!("{scheme}://{host}:{port}")
        };
        let connect_timeout = Duration::from_secs(config.connect_timeout_seconds);
        let mut endpoint = Endpoint::from_shared(address)
            .map_err(|_| {
                Error::config(format!(
                    "[spark] remote `{}` is not an address",
                    config.remote
                ))
            })?
            .connect_timeout(connect_timeout)
            .http2_keep_alive_interval(Duration::from_secs(30))
            .keep_alive_while_idle(true);
        if tls {
            let mut tls_config = ClientTlsConfig::new().with_native_roots().domain_name(host);
            if let Some(file) = &config.ca_file {
                let pem = fs_err::read(file)?;
                tls_config = tls_config.ca_certificate(Certificate::from_pem(pem));
            }
            endpoint = endpoint.tls_config(tls_config).map_err(|error| {
                Error::config(format!("[spark] TLS settings: {}", describe(&error)))
            })?;
        }
        let channel = runtime
            .block_on(async { tokio::time::timeout(connect_timeout, endpoint.connect()).await })
            .map_err(|_| {
                unreachable(
                    &config.remote,
                    "no answer within the connect timeout".into(),
                )
            })?
            .map_err(|error| unreachable(&config.remote, describe(&error)))?;
        Ok(Client {
            runtime,
            channel,
            token,
            session_id: session_id()?,
            remote: config.remote.clone(),
            query_timeout: Duration::from_secs(config.query_timeout_seconds),
        })
    }

    /// Runs a statement for its effect (`CREATE TEMPORARY VIEW …`, `SET …`).
    pub fn execute(&self, what: &str, sql: &str) -> Result<()> {
        let plan = proto::Plan {
            op_type: Some(proto::plan::OpType::Command(proto::Command {
                command_type: Some(proto::command::CommandType::SqlCommand(proto::SqlCommand {
                    sql: sql.to_string(),
                })),
            })),
        };
        self.run(what, plan).map(drop)
    }

    /// The whole answer of a query, as Arrow batches.
    pub fn query(&self, what: &str, sql: &str) -> Result<Vec<RecordBatch>> {
        let plan = proto::Plan {
            op_type: Some(proto::plan::OpType::Root(proto::Relation {
                rel_type: Some(proto::relation::RelType::Sql(proto::Sql {
                    query: sql.to_string(),
                })),
            })),
        };
        self.run(what, plan)
    }

    fn run(&self, what: &str, plan: proto::Plan) -> Result<Vec<RecordBatch>> {
        let message = proto::ExecutePlanRequest {
            session_id: self.session_id.clone(),
            user_context: Some(user()),
            plan: Some(plan),
            client_type: Some(CLIENT_TYPE.into()),
            operation_id: None,
        };
        let answer = self.runtime.block_on(async {
            tokio::time::timeout(self.query_timeout, self.stream(message)).await
        });
        match answer {
            Err(_) => Err(Error::Remote {
                message: format!(
                    "Spark at {} did not answer `{what}` within {} s",
                    self.remote,
                    self.query_timeout.as_secs()
                ),
                hint: Some(
                    "raise [spark] query_timeout_seconds, or look at the query in the Spark UI of the server"
                        .into(),
                ),
            }),
            Ok(Err(Failure::Status(status))) => Err(self.refused(what, &status)),
            Ok(Err(Failure::Arrow(error))) => Err(Error::Remote {
                message: format!("Spark's answer to `{what}` is not Arrow that opskpi reads: {error}"),
                hint: Some("check that the server is Spark Connect 3.5 or later".into()),
            }),
            Ok(Ok(batches)) => Ok(batches),
        }
    }

    async fn stream(
        &self,
        message: proto::ExecutePlanRequest,
    ) -> Result<Vec<RecordBatch>, Failure> {
        let mut grpc =
            tonic::client::Grpc::new(self.channel.clone()).max_decoding_message_size(MAX_MESSAGE);
        grpc.ready()
            .await
            .map_err(|error| Failure::Status(Status::unavailable(describe(&error))))?;
        let codec = tonic_prost::ProstCodec::<proto::ExecutePlanRequest, proto::ExecutePlanResponse>::default();
        let request = self.request(message);
        let mut stream = grpc
            .server_streaming(request, PathAndQuery::from_static(EXECUTE_PLAN), codec)
            .await
            .map_err(Failure::Status)?
            .into_inner();
        let mut batches = Vec::new();
        while let Some(response) = stream.message().await.map_err(Failure::Status)? {
            match response.response_type {
                Some(ResponseType::ArrowBatch(batch)) => {
                    let reader = arrow_ipc::reader::StreamReader::try_new(&batch.data[..], None)
                        .map_err(|error| Failure::Arrow(error.to_string()))?;
                    for batch in reader {
                        batches.push(batch.map_err(|error| Failure::Arrow(error.to_string()))?);
                    }
                }
                Some(ResponseType::ResultComplete(_)) => return Ok(batches),
                None => {}
            }
        }
        Ok(batches)
    }

    fn request<T>(&self, message: T) -> Request<T> {
        let mut request = Request::new(message);
        if let Some(token) = &self.token {
            request
                .metadata_mut()
                .insert("authorization", token.clone());
        }
        request
    }

    /// Spark's refusal, said with what to do about it.
    fn refused(&self, what: &str, status: &Status) -> Error {
        let text = status.message().trim();
        let (message, hint) = match status.code() {
            Code::Unavailable | Code::Cancelled | Code::Aborted => (
                format!("the connection to Spark at {} was lost during `{what}`: {text}", self.remote),
                "check that the Spark Connect server is running, then run the command again",
            ),
            Code::Unauthenticated | Code::PermissionDenied => (
                format!("Spark at {} refused the session: {text}", self.remote),
                "check the token in the variable [spark] token_env names",
            ),
            Code::DeadlineExceeded => (
                format!("Spark at {} did not answer `{what}` in time: {text}", self.remote),
                "raise [spark] query_timeout_seconds",
            ),
            _ if text.contains("TABLE_OR_VIEW_NOT_FOUND") || text.contains("PATH_NOT_FOUND") => (
                format!("Spark cannot find a table of `{what}`: {}", first_line(text)),
                "export the canonical tables to the lake first: opskpi lake export",
            ),
            _ if out_of_memory(text) => (
                format!("Spark ran out of memory in `{what}`: {}", first_line(text)),
                "the cluster's memory, not the query: give Spark's driver and executors more (spark.driver.memory, spark.executor.memory), or set spark.sql.autoBroadcastJoinThreshold = -1 on the cluster",
            ),
            _ if text.contains("INVALID_HANDLE") => (
                format!("Spark at {} lost the session during `{what}`: {}", self.remote, first_line(text)),
                "the server was restarted or the session expired; run the command again",
            ),
            _ => (
                format!("Spark refused `{what}`: {}", first_line(text)),
                "a project's own component query must be SQL that both DuckDB and Spark run (docs/guide.md: Spark)",
            ),
        };
        Error::Remote {
            message,
            hint: Some(hint.into()),
        }
    }
}

impl Drop for Client {
    /// Releases the session (its views and cached state), waiting briefly:
    /// a server already gone is not an error.
    fn drop(&mut self) {
        let message = proto::ReleaseSessionRequest {
            session_id: self.session_id.clone(),
            user_context: Some(user()),
            client_type: Some(CLIENT_TYPE.into()),
        };
        let request = self.request(message);
        let channel = self.channel.clone();
        let _ = self.runtime.block_on(async move {
            tokio::time::timeout(Duration::from_secs(5), async move {
                let mut grpc = tonic::client::Grpc::new(channel);
                grpc.ready().await.ok()?;
                let codec = tonic_prost::ProstCodec::<
                    proto::ReleaseSessionRequest,
                    proto::ReleaseSessionResponse,
                >::default();
                grpc.unary(request, PathAndQuery::from_static(RELEASE_SESSION), codec)
                    .await
                    .ok()
            })
            .await
        });
    }
}

enum Failure {
    Status(Status),
    Arrow(String),
}

fn user() -> proto::UserContext {
    proto::UserContext {
        user_id: "opskpi".into(),
        user_name: "opskpi".into(),
    }
}

/// `Bearer <token>` from the variable `token_env` names; never printed.
fn token(config: &SparkConfig) -> Result<Option<MetadataValue<Ascii>>> {
    let Some(variable) = &config.token_env else {
        return Ok(None);
    };
    let value = std::env::var(variable).map_err(|_| {
        Error::config_hint(
            format!("[spark] token_env names `{variable}`, which is not set"),
            format!(
                "export {variable}=… with the Spark Connect server's token before running opskpi"
            ),
        )
    })?;
    MetadataValue::try_from(format!("Bearer {}", value.trim()))
        .map(Some)
        .map_err(|_| {
            Error::config(format!(
                "the token in `{variable}` holds characters a header cannot carry"
            ))
        })
}

/// A random (version 4) UUID, the form Spark wants a session id in.
fn session_id() -> Result<String> {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| Error::Internal("no random numbers for a session id".into()))?;
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    ))
}

fn unreachable(remote: &str, why: String) -> Error {
    Error::Remote {
        message: format!("cannot reach Spark Connect at {remote}: {why}"),
        hint: Some(
            "start the server (sbin/start-connect-server.sh) or correct [spark] remote in opskpi.toml"
                .into(),
        ),
    }
}

/// An error with its causes, one after the other.
fn describe(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Whether Spark's message says it ran out of memory (a broadcast too large
/// for the driver, a task's executor lost to its heap).
fn out_of_memory(text: &str) -> bool {
    [
        "Not enough memory",
        "OutOfMemoryError",
        "out of memory",
        "Java heap space",
    ]
    .iter()
    .any(|sign| text.contains(sign))
}

/// Spark's messages carry the JVM's stack after the first line.
fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_memory_error_is_told_apart_from_bad_sql() {
        // Spark 4.3's message for a broadcast too large for a 1 GB driver
        // (the 100M-line sample's surveys component, seen here).
        assert!(out_of_memory(
            "Not enough memory to build and broadcast the table to all worker nodes. As a workaround, you can either disable broadcast"
        ));
        assert!(out_of_memory("java.lang.OutOfMemoryError: Java heap space"));
        assert!(!out_of_memory(
            "[UNRESOLVED_COLUMN.WITH_SUGGESTION] A column, variable, or function parameter with name `x` cannot be resolved"
        ));
    }

    #[test]
    fn session_ids_are_version_4_uuids() {
        let id = session_id().unwrap();
        let parts: Vec<&str> = id.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('4'));
        assert!(matches!(parts[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'));
        assert_ne!(id, session_id().unwrap());
    }
}
