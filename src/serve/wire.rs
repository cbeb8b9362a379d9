//! The PostgreSQL protocol's side of the server (pgwire): the login (TLS,
//! SCRAM-SHA-256 against the configured verifiers), the simple and the
//! extended query protocol, and cancel requests. A question goes to a door
//! of the served copy on a blocking thread; its batches come back through a
//! small channel as rows, so a large answer streams with bounded memory and
//! a client that goes away stops the query.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use async_trait::async_trait;
use duckdb::types::{TimeUnit, Value};
use futures::{Sink, SinkExt, StreamExt};
use pgwire::api::auth::sasl::scram::ScramSecret;
use pgwire::api::auth::sasl::SASLAuthStartupHandler;
use pgwire::api::auth::{
    AuthSource, DefaultServerParameterProvider, LoginInfo, Password, StartupHandler,
};
use pgwire::api::cancel::DefaultCancelHandler;
use pgwire::api::portal::{Format, Portal, PortalExecutionState};
use pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use pgwire::api::results::{
    DescribePortalResponse, DescribeStatementResponse, FieldInfo, QueryResponse, Response, Tag,
};
use pgwire::api::stmt::{NoopQueryParser, StoredStatement};
use pgwire::api::store::{Entry, PortalStore};
use pgwire::api::{
    ClientInfo, ClientPortalStore, PgWireConnectionState, PgWireServerHandlers, Type,
};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::data::DataRow;
use pgwire::messages::extendedquery::Execute;
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use ring::hmac;
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};

use super::encode;
use super::served::{Audience, Copies};
use super::session::{self, Said};
use super::users;
use crate::config::{Role, ServeUser};
use crate::error::Error;
use crate::sql::Params;

/// What every connection shares: the copy being served, the users, and
/// the server's log.
pub struct Shared {
    pub served: RwLock<Arc<Copies>>,
    pub users: RwLock<Arc<BTreeMap<String, ServeUser>>>,
    pub decoy: hmac::Key,
    pub viewer_row_limit: u64,
    /// `serve.max_running`'s permits: a query holds one while it runs.
    pub running_slots: Arc<tokio::sync::Semaphore>,
    /// The running queries' interruptions, for a shutdown's end of grace.
    pub running: std::sync::Mutex<BTreeMap<u64, Arc<duckdb::InterruptHandle>>>,
    pub next_query: std::sync::atomic::AtomicU64,
}

impl Shared {
    fn user(&self, name: &str) -> Option<ServeUser> {
        self.users.read().ok()?.get(name).cloned()
    }
}

/// Where the server's log lines go (the command line's writer, which
/// stamps them with the time).
pub static LOG: std::sync::OnceLock<Writer> = std::sync::OnceLock::new();

/// A writer of log lines.
pub type Writer = Box<dyn Fn(&str) + Send + Sync>;

/// One line of the server's log: never a password, a parameter or a
/// query's text (its digest groups the same query).
pub fn log(line: &str) {
    if let Some(write) = LOG.get() {
        write(line);
    }
}

// ---- login ----------------------------------------------------------------

#[derive(Clone)]
pub struct Auth(pub Arc<Shared>);

impl Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Auth")
    }
}

#[async_trait]
impl AuthSource for Auth {
    async fn get_password(&self, login: &LoginInfo) -> PgWireResult<Password> {
        // Only SCRAM is offered; no password is ever held.
        Err(PgWireError::InvalidPassword(
            login.user().unwrap_or_default().to_owned(),
        ))
    }

    async fn get_scram_secret(&self, login: &LoginInfo) -> PgWireResult<(ScramSecret, Option<()>)> {
        let name = login.user().unwrap_or_default();
        let secret = match self.0.user(name) {
            Some(user) => users::parse(name, &user.verifier).map_err(|error| {
                log(&format!("login user={name} refused: {error}"));
                PgWireError::InvalidPassword(name.to_owned())
            })?,
            None => users::decoy(&self.0.decoy, name),
        };
        Ok((secret, None))
    }
}

pub struct Startup {
    pub inner: SASLAuthStartupHandler<DefaultServerParameterProvider>,
    pub require_tls: bool,
}

#[async_trait]
impl StartupHandler for Startup {
    async fn on_startup<C>(
        &self,
        client: &mut C,
        message: PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let from = client.socket_addr();
        if let PgWireFrontendMessage::Startup(startup) = &message {
            if self.require_tls && !client.is_secure() {
                let user = startup.parameters.get("user").cloned().unwrap_or_default();
                log(&format!("login user={user} from={from} refused: not TLS"));
                return Err(user_error(
                    "FATAL",
                    "28000",
                    "opskpi serve accepts TLS connections only".into(),
                    Some("connect with sslmode=require (psql), ssl=true (JDBC) or SSL Mode=Require (Npgsql)".into()),
                ));
            }
        }
        let result = self.inner.on_startup(client, message).await;
        let user = client
            .metadata()
            .get(pgwire::api::METADATA_USER)
            .cloned()
            .unwrap_or_default();
        match &result {
            Err(error) => log(&format!("login user={user} from={from} refused: {error}")),
            Ok(()) if matches!(client.state(), PgWireConnectionState::ReadyForQuery) => {
                log(&format!(
                    "connected user={user} from={from} tls={}",
                    if client.is_secure() { "on" } else { "off" }
                ))
            }
            Ok(()) => {}
        }
        result
    }
}

// ---- queries --------------------------------------------------------------

pub struct Queries {
    pub shared: Arc<Shared>,
    pub parser: Arc<NoopQueryParser>,
}

/// Interrupts the query on its door if the answer is abandoned (a cancel
/// request, a client gone) before its rows were handed over.
struct InterruptOnDrop(Option<Arc<duckdb::InterruptHandle>>);

impl Drop for InterruptOnDrop {
    fn drop(&mut self) {
        if let Some(handle) = self.0.take() {
            handle.interrupt();
        }
    }
}

impl Queries {
    /// The logged-in user, as the configuration says now (a SIGHUP may
    /// have changed or removed them).
    fn user<C: ClientInfo>(&self, client: &C) -> PgWireResult<(String, ServeUser)> {
        let name = client
            .metadata()
            .get(pgwire::api::METADATA_USER)
            .cloned()
            .unwrap_or_default();
        let Some(user) = self.shared.user(&name) else {
            return Err(user_error(
                "FATAL",
                "28000",
                format!("the user `{name}` is no longer in the server's configuration"),
                None,
            ));
        };
        if user.scope().is_err() {
            // Deny by default: a scope that cannot be read serves nothing.
            return Err(user_error(
                "FATAL",
                "28000",
                format!("the user `{name}` has a scope the server cannot read"),
                None,
            ));
        }
        Ok((name, user))
    }

    /// Answers `sql` for `user`: the rows stream as DuckDB produces them;
    /// with `describe`, only the row description.
    async fn answer(
        &self,
        (name, user): (String, ServeUser),
        sql: String,
        params: Vec<Value>,
        formats: Format,
        describe: bool,
    ) -> PgWireResult<(Arc<Vec<FieldInfo>>, Response)> {
        let served = self.shared.served.read().map_err(|_| poisoned())?.clone();
        let audience = Audience::of(&user).map_err(|e| pg_error(&e))?;
        let (door, sql) = served
            .door(&audience, user.role, &name, &sql)
            .map_err(|e| pg_error(&e))?;
        // A description needs the columns, not the rows: the query is
        // planned with no row to produce (run whole, a describe cost as
        // much as the execution after it, and held its buffers meanwhile).
        let sql = if describe {
            format!(
                "SELECT * FROM (\n{}\n) LIMIT 0",
                sql.trim().trim_end_matches(';').trim_end()
            )
        } else {
            sql
        };
        // A slot of `serve.max_running`, held until the query's last row is
        // handed on (the query waits here, not in DuckDB's memory).
        let slot = self
            .shared
            .running_slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| poisoned())?;
        let handle = door.interrupt_handle();
        let id = self
            .shared
            .next_query
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if let Ok(mut running) = self.shared.running.lock() {
            running.insert(id, handle.clone());
        }
        let mut guard = InterruptOnDrop(Some(handle));
        let (fields_tx, fields_rx) = oneshot::channel::<PgWireResult<Arc<Vec<FieldInfo>>>>();
        let (rows_tx, rows_rx) = mpsc::channel::<PgWireResult<Vec<DataRow>>>(2);
        let limit = (user.role == Role::Viewer).then_some(self.shared.viewer_row_limit);
        let shared = self.shared.clone();
        let digest = digest(&sql);
        tokio::task::spawn_blocking(move || {
            let _slot = slot;
            let started = Instant::now();
            let mut fields_tx = Some(fields_tx);
            let mut rows = 0u64;
            let result = door.stream(&sql, Params::Positional(&params), |schema, batches| {
                let fields = Arc::new(encode::fields(&schema, |i| formats.format_for(i)));
                let sent = fields_tx.take().map(|tx| tx.send(Ok(fields.clone())));
                if describe || !matches!(sent, Some(Ok(()))) {
                    return Ok(());
                }
                for batch in batches {
                    let batch = batch?;
                    rows += batch.num_rows() as u64;
                    if let Some(limit) = limit.filter(|limit| rows > *limit) {
                        return Err(Error::config_hint(
                            format!("the answer has more than {limit} rows, a viewer's limit"),
                            "aggregate, filter or LIMIT the query (serve.viewer_row_limit)",
                        ));
                    }
                    if rows_tx
                        .blocking_send(Ok(encode::rows(&batch, &fields)?))
                        .is_err()
                    {
                        return Err(Error::Internal("the client went away".into()));
                    }
                }
                Ok(())
            });
            if let Ok(mut running) = shared.running.lock() {
                running.remove(&id);
            }
            let ms = started.elapsed().as_millis();
            match result {
                Ok(()) => log(&format!(
                    "query user={name} statement={digest} ms={ms} rows={rows}{}",
                    if describe { " describe" } else { "" }
                )),
                Err(error) => {
                    let pg = pg_error(&error);
                    log(&format!(
                        "query user={name} statement={digest} ms={ms} rows={rows} error={}",
                        sqlstate(&error)
                    ));
                    match fields_tx.take() {
                        Some(tx) => {
                            let _ = tx.send(Err(pg));
                        }
                        None => {
                            let _ = rows_tx.blocking_send(Err(pg));
                        }
                    }
                }
            }
        });
        let fields = fields_rx.await.map_err(|_| poisoned())??;
        guard.0 = None;
        let stream = futures::stream::unfold(rows_rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        })
        .flat_map(|item| {
            futures::stream::iter(match item {
                Ok(rows) => rows.into_iter().map(Ok).collect::<Vec<_>>(),
                Err(error) => vec![Err(error)],
            })
        });
        Ok((
            fields.clone(),
            Response::Query(QueryResponse::new(fields, stream)),
        ))
    }
}

/// The response to a statement answered without DuckDB.
fn said_response(said: Said, formats: &Format) -> Response {
    match said {
        Said::Done(tag) => Response::Execution(Tag::new(tag)),
        Said::Begin => Response::TransactionStart(Tag::new("BEGIN")),
        Said::End(tag) => Response::TransactionEnd(Tag::new(tag)),
        Said::Show(name, value) => {
            let fields = show_fields(&name, formats);
            let mut data = bytes::BytesMut::new();
            bytes::BufMut::put_i32(&mut data, value.len() as i32);
            bytes::BufMut::put_slice(&mut data, value.as_bytes());
            let row = DataRow::new(data, 1);
            Response::Query(QueryResponse::new(
                fields,
                futures::stream::iter(vec![Ok(row)]),
            ))
        }
    }
}

/// The row description of a statement answered without DuckDB: a
/// `SHOW`'s one column, nothing for the others.
fn said_fields(said: &Said, formats: &Format) -> Vec<FieldInfo> {
    match said {
        Said::Show(name, _) => (*show_fields(name, formats)).clone(),
        _ => Vec::new(),
    }
}

fn show_fields(name: &str, formats: &Format) -> Arc<Vec<FieldInfo>> {
    Arc::new(vec![FieldInfo::new(
        name.to_string(),
        None,
        None,
        Type::TEXT,
        formats.format_for(0),
    )])
}

#[async_trait]
impl SimpleQueryHandler for Queries {
    async fn do_query<C>(&self, client: &mut C, query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        let user = self.user(client)?;
        if let Some(said) = session::said(query) {
            return Ok(vec![said_response(said, &Format::UnifiedText)]);
        }
        let (_, response) = self
            .answer(
                user,
                query.to_string(),
                Vec::new(),
                Format::UnifiedText,
                false,
            )
            .await?;
        Ok(vec![response])
    }
}

#[async_trait]
impl ExtendedQueryHandler for Queries {
    type Statement = String;
    type QueryParser = NoopQueryParser;

    fn query_parser(&self) -> Arc<Self::QueryParser> {
        self.parser.clone()
    }

    /// Execute, with the rows streamed to the client as DuckDB produces
    /// them. (pgwire's own Execute collects every row of the answer before
    /// it sends the first — 16 binary readers of a million rows each held
    /// 3.7 GB.) A portal asked for part of its rows (`max_rows`), one
    /// already started, or a session statement goes pgwire's way.
    async fn on_execute<C>(&self, client: &mut C, message: Execute) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let name = message.name.as_deref().unwrap_or(pgwire::api::DEFAULT_NAME);
        let portal = match client.portal_store().get_portal(name) {
            Some(Entry::Value(portal)) => Some(portal),
            _ => None,
        };
        let streamable = match &portal {
            Some(portal) => {
                message.max_rows == 0
                    && matches!(client.state(), PgWireConnectionState::ReadyForQuery)
                    && session::said(&portal.statement.statement).is_none()
                    && matches!(*portal.state().lock().await, PortalExecutionState::Initial)
            }
            None => false,
        };
        let (Some(portal), true) = (portal, streamable) else {
            return self._on_execute(client, message).await;
        };
        let status = client.transaction_status();
        client.set_state(PgWireConnectionState::QueryInProgress);
        let response = ExtendedQueryHandler::do_query(self, client, portal.as_ref(), 0).await?;
        *portal.state().lock().await = PortalExecutionState::Finished;
        let Response::Query(mut answer) = response else {
            return Err(PgWireError::ApiError(
                "a query answered with something other than rows".into(),
            ));
        };
        let tag = answer.command_tag().to_owned();
        let mut rows = 0;
        while let Some(row) = answer.data_rows().next().await {
            client.feed(PgWireBackendMessage::DataRow(row?)).await?;
            rows += 1;
        }
        client
            .send(PgWireBackendMessage::CommandComplete(
                Tag::new(&tag).with_rows(rows).into(),
            ))
            .await?;
        client.set_state(PgWireConnectionState::ReadyForQuery);
        client.set_transaction_status(status);
        Ok(())
    }

    async fn do_query<C>(
        &self,
        client: &mut C,
        portal: &Portal<Self::Statement>,
        _max_rows: usize,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        let user = self.user(client)?;
        let sql = portal.statement.statement.clone();
        if let Some(said) = session::said(&sql) {
            return Ok(said_response(said, &portal.result_column_format));
        }
        let params = parameters(portal)?;
        let (_, response) = self
            .answer(
                user,
                sql,
                params,
                portal.result_column_format.clone(),
                false,
            )
            .await?;
        Ok(response)
    }

    async fn do_describe_statement<C>(
        &self,
        client: &mut C,
        statement: &StoredStatement<Self::Statement>,
    ) -> PgWireResult<DescribeStatementResponse>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        let user = self.user(client)?;
        let sql = statement.statement.clone();
        if let Some(said) = session::said(&sql) {
            let fields = said_fields(&said, &Format::UnifiedText);
            return Ok(DescribeStatementResponse::new(Vec::new(), fields));
        }
        let inferred = {
            let served = self.shared.served.read().map_err(|_| poisoned())?.clone();
            let audience = Audience::of(&user.1).map_err(|e| pg_error(&e))?;
            let (door, rewritten) = served
                .door(&audience, user.1.role, &user.0, &sql)
                .map_err(|e| pg_error(&e))?;
            door.parameter_types(&rewritten).map_err(|e| pg_error(&e))?
        };
        let count = inferred.len();
        let cast = encode::cast_types(&sql, count);
        let types: Vec<Type> = (0..count)
            .map(|i| {
                statement
                    .parameter_types
                    .get(i)
                    .cloned()
                    .flatten()
                    .filter(|ty| *ty != Type::UNKNOWN)
                    .or_else(|| cast[i].clone())
                    .unwrap_or_else(|| encode::parameter_type(&inferred[i]))
            })
            .collect();
        // The columns, from the query run with NULL for each parameter (a
        // query whose answer needs a value gives no description: the
        // client learns the columns at execution).
        let nulls = vec![Value::Null; count];
        let fields = match self
            .answer(user, sql, nulls, Format::UnifiedText, true)
            .await
        {
            Ok((fields, _)) => (*fields).clone(),
            Err(_) => Vec::new(),
        };
        Ok(DescribeStatementResponse::new(types, fields))
    }

    async fn do_describe_portal<C>(
        &self,
        client: &mut C,
        portal: &Portal<Self::Statement>,
    ) -> PgWireResult<DescribePortalResponse>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        let user = self.user(client)?;
        let sql = portal.statement.statement.clone();
        if let Some(said) = session::said(&sql) {
            let fields = said_fields(&said, &portal.result_column_format);
            return Ok(DescribePortalResponse::new(fields));
        }
        let params = parameters(portal)?;
        let (fields, _) = self
            .answer(user, sql, params, portal.result_column_format.clone(), true)
            .await?;
        Ok(DescribePortalResponse::new((*fields).clone()))
    }
}

// ---- parameters -----------------------------------------------------------

/// The bound parameters as DuckDB values: text as text (DuckDB casts it to
/// the parameter's type, exactly), numbers and booleans typed, binary
/// values decoded from PostgreSQL's forms.
fn parameters(portal: &Portal<String>) -> PgWireResult<Vec<Value>> {
    // The types described to the client: its own, else a cast's.
    let cast = encode::cast_types(&portal.statement.statement, portal.parameter_len());
    (0..portal.parameter_len())
        .map(|i| {
            let Some(bytes) = &portal.parameters[i] else {
                return Ok(Value::Null);
            };
            let ty = portal
                .statement
                .parameter_types
                .get(i)
                .cloned()
                .flatten()
                .filter(|ty| *ty != Type::UNKNOWN)
                .or_else(|| cast[i].clone())
                .unwrap_or(Type::UNKNOWN);
            if portal.parameter_format.is_binary(i) {
                binary_parameter(i, &ty, bytes)
            } else {
                let text = std::str::from_utf8(bytes).map_err(|_| bad_parameter(i, "not UTF-8"))?;
                text_parameter(i, &ty, text)
            }
        })
        .collect()
}

fn text_parameter(i: usize, ty: &Type, text: &str) -> PgWireResult<Value> {
    let bad = || bad_parameter(i, &format!("`{text}` is not a {}", ty.name()));
    Ok(match *ty {
        Type::INT2 | Type::INT4 | Type::INT8 => {
            Value::BigInt(text.trim().parse().map_err(|_| bad())?)
        }
        Type::FLOAT4 | Type::FLOAT8 => Value::Double(text.trim().parse().map_err(|_| bad())?),
        Type::BOOL => Value::Boolean(match text.trim().to_ascii_lowercase().as_str() {
            "t" | "true" | "on" | "yes" | "1" => true,
            "f" | "false" | "off" | "no" | "0" => false,
            _ => return Err(bad()),
        }),
        _ => Value::Text(text.to_string()),
    })
}

fn binary_parameter(i: usize, ty: &Type, bytes: &[u8]) -> PgWireResult<Value> {
    let short = || {
        bad_parameter(
            i,
            &format!("{} bytes are not a binary {}", bytes.len(), ty.name()),
        )
    };
    let array =
        |n: usize| -> PgWireResult<&[u8]> { (bytes.len() == n).then_some(bytes).ok_or_else(short) };
    Ok(match *ty {
        Type::BOOL => Value::Boolean(array(1)?[0] != 0),
        Type::INT2 => Value::SmallInt(i16::from_be_bytes(array(2)?.try_into().unwrap())),
        Type::INT4 => Value::Int(i32::from_be_bytes(array(4)?.try_into().unwrap())),
        Type::INT8 => Value::BigInt(i64::from_be_bytes(array(8)?.try_into().unwrap())),
        Type::FLOAT4 => Value::Float(f32::from_be_bytes(array(4)?.try_into().unwrap())),
        Type::FLOAT8 => Value::Double(f64::from_be_bytes(array(8)?.try_into().unwrap())),
        Type::DATE => Value::Date32(i32::from_be_bytes(array(4)?.try_into().unwrap()) + 10_957),
        Type::TIMESTAMP | Type::TIMESTAMPTZ => Value::Timestamp(
            TimeUnit::Microsecond,
            i64::from_be_bytes(array(8)?.try_into().unwrap()) + 946_684_800_000_000,
        ),
        Type::NUMERIC => Value::Text(numeric_from_binary(bytes).ok_or_else(short)?),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => Value::Text(
            String::from_utf8(bytes.to_vec()).map_err(|_| bad_parameter(i, "not UTF-8"))?,
        ),
        _ => {
            return Err(user_error(
                "ERROR",
                "22P03",
                format!("parameter ${}: a binary {} is not read", i + 1, ty.name()),
                Some("send the parameter as text".into()),
            ))
        }
    })
}

/// A binary NUMERIC as its exact text (`-12.3400`).
fn numeric_from_binary(bytes: &[u8]) -> Option<String> {
    let word = |k: usize| -> Option<i16> {
        Some(i16::from_be_bytes(
            bytes.get(2 * k..2 * k + 2)?.try_into().ok()?,
        ))
    };
    let (count, weight, sign, scale) = (word(0)?, word(1)?, word(2)? as u16, word(3)?);
    if sign == 0xC000 || count < 0 || scale < 0 || bytes.len() != 8 + 2 * count as usize {
        return None;
    }
    let digits: Vec<i16> = (0..count as usize)
        .map(|k| word(4 + k))
        .collect::<Option<_>>()?;
    // Digit k is worth 10000^(weight − k).
    let mut whole = String::new();
    for k in 0..=weight.max(-1) {
        let digit = digits.get(k as usize).copied().unwrap_or(0);
        if whole.is_empty() {
            whole = digit.to_string();
        } else {
            whole.push_str(&format!("{digit:04}"));
        }
    }
    if whole.is_empty() {
        whole.push('0');
    }
    let mut fraction = String::new();
    for k in (weight + 1)..(weight + 1 + (scale + 3) / 4) {
        let digit = if k < 0 {
            0
        } else {
            digits.get(k as usize).copied().unwrap_or(0)
        };
        fraction.push_str(&format!("{digit:04}"));
    }
    fraction.truncate(scale as usize);
    let sign = if sign == 0x4000 { "-" } else { "" };
    Some(if fraction.is_empty() {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{fraction}")
    })
}

fn bad_parameter(i: usize, what: &str) -> PgWireError {
    user_error(
        "ERROR",
        "22P02",
        format!("parameter ${}: {what}", i + 1),
        None,
    )
}

// ---- errors ---------------------------------------------------------------

fn user_error(severity: &str, code: &str, message: String, hint: Option<String>) -> PgWireError {
    let mut info = ErrorInfo::new(severity.to_owned(), code.to_owned(), message);
    info.hint = hint;
    PgWireError::UserError(Box::new(info))
}

fn poisoned() -> PgWireError {
    user_error("ERROR", "XX000", "the query's worker stopped".into(), None)
}

/// An opskpi error as PostgreSQL's: the message, the hint apart, and the
/// SQLSTATE a client understands.
fn pg_error(error: &Error) -> PgWireError {
    let (message, hint) = match error {
        Error::Config { message, hint } => (message.clone(), hint.clone()),
        other => (other.to_string(), None),
    };
    user_error("ERROR", sqlstate(error), message, hint)
}

/// The SQLSTATE of a refusal or a failure, by what it says.
pub fn sqlstate(error: &Error) -> &'static str {
    let text = error.to_string();
    let has = |word: &str| text.contains(word);
    if has("the client went away") {
        "08006"
    } else if has("ran longer than") || has("INTERRUPT") || has("Interrupted") {
        "57014"
    } else if has("more than one statement") || has("Parser Error") || has("syntax error") {
        "42601"
    } else if has("a viewer's limit") {
        "54000"
    } else if has("only reads")
        || has("external access")
        || has("disabled by configuration")
        || has("read-only")
        || has("lock_configuration")
        || has("Permission Error")
    {
        "42501"
    } else if has("Catalog Error") && has("Table Function") || has("Function with name") {
        "42883"
    } else if has("Catalog Error") {
        "42P01"
    } else if has("Binder Error") && has("column") {
        "42703"
    } else if has("Binder Error") {
        "42804"
    } else if has("Conversion Error") || has("Could not convert") {
        "22P02"
    } else if has("Out of Memory") {
        "53200"
    } else if has("kpi():") || has("Invalid Input") {
        "22023"
    } else {
        "XX000"
    }
}

/// The first 8 hex digits of the statement's SHA-256: the same question
/// has the same digest in the log, and its text is never written.
fn digest(sql: &str) -> String {
    let hash = Sha256::digest(sql.trim().as_bytes());
    hash.iter().take(4).map(|b| format!("{b:02x}")).collect()
}

// ---- the handlers together ------------------------------------------------

pub struct Handlers {
    pub startup: Arc<Startup>,
    pub queries: Arc<Queries>,
    pub cancel: Arc<DefaultCancelHandler>,
}

impl PgWireServerHandlers for Handlers {
    fn simple_query_handler(&self) -> Arc<impl SimpleQueryHandler> {
        self.queries.clone()
    }

    fn extended_query_handler(&self) -> Arc<impl ExtendedQueryHandler> {
        self.queries.clone()
    }

    fn startup_handler(&self) -> Arc<impl StartupHandler> {
        self.startup.clone()
    }

    fn cancel_handler(&self) -> Arc<impl pgwire::api::cancel::CancelHandler> {
        self.cancel.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_binary(value: i128, scale: i8) -> String {
        let mut out = bytes::BytesMut::new();
        encode::numeric_binary(value, scale, &mut out);
        numeric_from_binary(&out).unwrap()
    }

    #[test]
    fn binary_numerics_read_back_exactly() {
        for (value, scale) in [
            (0, 2),
            (12_345_678, 2),
            (-5, 4),
            (10_000, 0),
            (1_0000_0001, 4),
            (5, 6),
            (-123_456_789_012_345_678, 18),
        ] {
            assert_eq!(
                from_binary(value, scale),
                encode::numeric_text(value, scale),
                "{value} scale {scale}"
            );
        }
    }

    #[test]
    fn refusals_have_the_sqlstate_a_client_knows() {
        let config = |m: &str| Error::config_hint(m, "");
        assert_eq!(
            sqlstate(&config("the query ran longer than 5 s and was stopped")),
            "57014"
        );
        assert_eq!(
            sqlstate(&config(
                "the query holds more than one statement: nothing was run"
            )),
            "42601"
        );
        assert_eq!(
            sqlstate(&config(
                "the query failed: Catalog Error: Table with name x does not exist!"
            )),
            "42P01"
        );
        assert_eq!(
            sqlstate(&config(
                "the query failed: Permission Error: Cannot access file"
            )),
            "42501"
        );
        assert_eq!(
            sqlstate(&config(
                "the query failed: Binder Error: Referenced column \"x\" not found"
            )),
            "42703"
        );
    }
}
