//! The library's one error type. Each variant says whose fault it is, because
//! that decides the exit code and what the user should do next.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Exit codes, documented in the README.
pub const EXIT_USER_ERROR: u8 = 1;
pub const EXIT_INTERNAL: u8 = 2;
pub const EXIT_ALERT: u8 = 3;
pub const EXIT_CHECK: u8 = 4;
pub const EXIT_DELIVERY: u8 = 5;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration or the command line asks for something that cannot be.
    #[error("{message}{}", hint_line(hint))]
    Config {
        message: String,
        hint: Option<String>,
    },

    /// A source file is not what the canonical table needs.
    #[error("{0}")]
    Data(Box<BadData>),

    /// A query from `queries/` failed.
    #[error("query `{name}` failed: {source}")]
    Query {
        name: String,
        #[source]
        source: Box<duckdb::Error>,
    },

    /// A report template failed to parse or render.
    #[error("template `{name}`{}: {message}", line.map(|l| format!(" line {l}")).unwrap_or_default())]
    Template {
        name: String,
        line: Option<usize>,
        message: String,
    },

    /// A message could not be delivered: the mail server or webhook refused
    /// it, or could not be reached within the retries.
    #[error("{message}{}", hint_line(hint))]
    Delivery {
        message: String,
        hint: Option<String>,
    },

    /// A remote engine (Spark through Spark Connect) could not be reached,
    /// lost the session, or refused a query.
    #[error("{message}{}", hint_line(hint))]
    Remote {
        message: String,
        hint: Option<String>,
    },

    /// Reading or writing a file failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),

    /// A bug in opskpi: something it promised itself did not hold.
    #[error("internal error: {0}\nhint: this is a bug in opskpi; please report it with the command you ran")]
    Internal(String),
}

impl Error {
    /// The error of reading `read` (a packed file's unpacked content in
    /// the scratch folder) said of `file`, the file the user named.
    pub fn for_file(self, read: &std::path::Path, file: &std::path::Path) -> Error {
        if read == file {
            return self;
        }
        let (from, to) = (read.display().to_string(), file.display().to_string());
        match self {
            Error::Data(mut bad) => {
                if bad.file == read {
                    bad.file = file.to_path_buf();
                }
                bad.message = bad.message.replace(&from, &to);
                Error::Data(bad)
            }
            Error::Config { message, hint } => Error::Config {
                message: message.replace(&from, &to),
                hint: hint.map(|hint| hint.replace(&from, &to)),
            },
            other => other,
        }
    }
}

/// The hint for an unknown `word` among `known` (named `what`, plural):
/// "did you mean `x`? indicators are: a, b, …" — the suggestion first when
/// one name is close (a typo, a missing part), then the whole list.
pub fn unknown_hint<S: AsRef<str>>(word: &str, known: &[S], what: &str) -> String {
    let list: Vec<&str> = known.iter().map(AsRef::as_ref).collect();
    let all = format!("{what} are: {}", list.join(", "));
    match did_you_mean(word, &list) {
        Some(close) => format!("did you mean `{close}`? {all}"),
        None => all,
    }
}

/// The known name closest to `word`, if one is close: the only name that
/// holds `word` whole (`inventory_outstanding`), else the same letters in
/// a near order (Jaro–Winkler at least 0.85).
pub fn did_you_mean<'a>(word: &str, known: &[&'a str]) -> Option<&'a str> {
    let word = word.trim().to_lowercase();
    if word.is_empty() {
        return None;
    }
    let holding: Vec<&str> = known
        .iter()
        .filter(|name| word.len() >= 3 && name.to_lowercase().contains(&word))
        .copied()
        .collect();
    if let [only] = holding.as_slice() {
        return Some(only);
    }
    let best = known
        .iter()
        .map(|name| (strsim::jaro_winkler(&word, &name.to_lowercase()), *name))
        .max_by(|a, b| a.0.total_cmp(&b.0));
    best.filter(|(score, _)| *score >= 0.85)
        .map(|(_, name)| name)
}

fn hint_line(hint: &Option<String>) -> String {
    hint.as_ref()
        .map(|hint| format!("\nhint: {hint}"))
        .unwrap_or_default()
}

/// Where a source file breaks the model, and what to do about it.
#[derive(Debug)]
pub struct BadData {
    pub file: PathBuf,
    /// 1-based data row (the header is not counted); `None` for file-level problems.
    pub row: Option<u64>,
    /// Where the row is in the source, in `place`'s unit (a line, a sheet row).
    pub line: Option<u64>,
    /// What `line` counts: `line`, `sheet row`, `record`.
    pub place: &'static str,
    pub column: Option<String>,
    pub value: Option<String>,
    pub message: String,
    pub hint: Option<String>,
}

impl BadData {
    /// A problem with the file as a whole.
    pub fn file(path: &std::path::Path, message: String, hint: Option<String>) -> BadData {
        BadData {
            file: path.to_path_buf(),
            row: None,
            line: None,
            place: "line",
            column: None,
            value: None,
            message,
            hint,
        }
    }
}

impl std::fmt::Display for BadData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "bad data in `{}`", self.file.display())?;
        match (self.row, self.line) {
            (Some(row), Some(line)) => write!(f, ", row {row} ({} {line})", self.place)?,
            (Some(row), None) => write!(f, ", row {row}")?,
            (None, Some(line)) => write!(f, ", {} {line}", self.place)?,
            (None, None) => {}
        }
        if let Some(column) = &self.column {
            write!(f, ", column `{column}`")?;
        }
        if let Some(value) = &self.value {
            write!(f, ", value `{value}`")?;
        }
        write!(f, ": {}{}", self.message, hint_line(&self.hint))
    }
}

impl Error {
    pub fn config(message: impl Into<String>) -> Self {
        Error::Config {
            message: message.into(),
            hint: None,
        }
    }

    pub fn config_hint(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Error::Config {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    /// A configuration error said of the file `shown` (`` `opskpi.toml`: …``),
    /// unless it names the file already.
    pub fn in_file(self, shown: &str) -> Self {
        match self {
            Error::Config { message, hint } if !message.contains(shown) => Error::Config {
                message: format!("`{shown}`: {message}"),
                hint,
            },
            other => other,
        }
    }

    pub fn data(bad: BadData) -> Self {
        Error::Data(Box::new(bad))
    }

    pub fn query(name: impl Into<String>) -> impl FnOnce(duckdb::Error) -> Self {
        let name = name.into();
        move |source| Error::Query {
            name,
            source: Box::new(source),
        }
    }

    /// Whether the user (configuration or data) rather than opskpi is at fault.
    pub fn is_user_error(&self) -> bool {
        !matches!(self, Error::Internal(_))
    }

    /// The process exit code this error ends a command with.
    pub fn exit_code(&self) -> u8 {
        if matches!(self, Error::Delivery { .. }) {
            EXIT_DELIVERY
        } else if self.is_user_error() {
            EXIT_USER_ERROR
        } else {
            EXIT_INTERNAL
        }
    }
}
