//! `[spark]` and `[lake]`: the Spark Connect server the Spark engine runs
//! the component queries on, and the Parquet lake of canonical tables it
//! reads (`opskpi lake export` writes it).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// `[spark]`: where the Spark Connect server is, and how long to wait.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SparkConfig {
    /// `sc://host:port`, Spark Connect's address (port 15002 by default).
    pub remote: String,
    /// The environment variable that holds the bearer token, if the server
    /// wants one (the token itself is never in the file). A token implies
    /// TLS, as in Spark's own clients.
    pub token_env: Option<String>,
    /// TLS without a token (`sc://…;use_ssl=true` in Spark's clients).
    pub tls: bool,
    /// A PEM file of the certificate authority that signed the server's
    /// certificate, besides the system's roots.
    pub ca_file: Option<PathBuf>,
    /// Seconds to wait for the connection.
    pub connect_timeout_seconds: u64,
    /// Seconds one query may run before it is abandoned (an error, never a
    /// partial answer).
    pub query_timeout_seconds: u64,
}

impl Default for SparkConfig {
    fn default() -> Self {
        SparkConfig {
            remote: "sc://127.0.0.1:15002".into(),
            token_env: None,
            tls: false,
            ca_file: None,
            connect_timeout_seconds: 20,
            query_timeout_seconds: 900,
        }
    }
}

impl SparkConfig {
    /// The server's `host:port` from `sc://host[:port][/;params]`.
    pub fn host_port(&self) -> Result<(String, u16)> {
        let bad = || {
            Error::config_hint(
                format!(
                    "[spark] remote `{}` is not a Spark Connect address",
                    self.remote
                ),
                "write it as sc://HOST:PORT, for example sc://spark.example.com:15002",
            )
        };
        let rest = self.remote.strip_prefix("sc://").ok_or_else(bad)?;
        let authority = rest.split(['/', ';']).next().unwrap_or_default();
        if authority.is_empty() {
            return Err(bad());
        }
        match authority.rsplit_once(':') {
            Some((host, port)) if !host.is_empty() => {
                let port = port.parse::<u16>().map_err(|_| bad())?;
                Ok((host.trim_matches(['[', ']']).to_string(), port))
            }
            Some(_) => Err(bad()),
            None => Ok((authority.to_string(), 15002)),
        }
    }

    pub fn check(&self) -> Result<()> {
        self.host_port()?;
        if self.connect_timeout_seconds == 0 || self.query_timeout_seconds == 0 {
            return Err(Error::config_hint(
                "[spark] timeouts must be at least one second",
                "set connect_timeout_seconds and query_timeout_seconds to whole seconds above 0",
            ));
        }
        Ok(())
    }
}

/// `[lake]`: the Parquet lake of canonical tables.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LakeConfig {
    /// The folder `opskpi lake export` writes (relative to opskpi.toml).
    pub path: Option<PathBuf>,
    /// The same folder as the Spark cluster reads it (`s3a://bucket/lake`,
    /// `hdfs://…`, `/mnt/lake`); the local path when not given.
    pub uri: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remote(text: &str) -> SparkConfig {
        SparkConfig {
            remote: text.into(),
            ..SparkConfig::default()
        }
    }

    #[test]
    fn addresses_are_read_as_spark_clients_read_them() {
        assert_eq!(
            remote("sc://localhost").host_port().unwrap(),
            ("localhost".to_string(), 15002)
        );
        assert_eq!(
            remote("sc://10.0.0.7:443/;use_ssl=true")
                .host_port()
                .unwrap(),
            ("10.0.0.7".to_string(), 443)
        );
        assert_eq!(
            remote("sc://[::1]:15003").host_port().unwrap(),
            ("::1".to_string(), 15003)
        );
        for bad in [
            "http://host:15002",
            "sc://",
            "sc://host:port",
            "sc://:15002",
        ] {
            assert!(remote(bad).host_port().is_err(), "{bad}");
        }
    }
}
