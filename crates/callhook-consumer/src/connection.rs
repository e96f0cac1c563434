//! Opening a named connection with a timeout, and closing one without waiting forever.

use std::time::Duration;

use lapin::{Connection, ConnectionProperties};

use crate::{AmqpConfig, Error, Result};

/// Opens a plain connection (no lapin auto-recovery) named `<connection_name>-<role>`.
pub(crate) async fn open(config: &AmqpConfig, role: &str) -> Result<Connection> {
    let props = ConnectionProperties::default()
        .with_connection_name(format!("{}-{role}", config.connection_name).into());
    tokio::time::timeout(
        config.connect_timeout,
        Connection::connect(config.url.expose(), props),
    )
    .await
    .map_err(|_| Error::ConnectTimeout(config.connect_timeout))?
    .map_err(Error::amqp("connect"))
}

/// Closes a connection, best effort: a dead one fails at once, a stuck one is given up
/// on after a second. Deliveries of its channels can no longer be acked; the broker
/// delivers them again.
pub(crate) async fn close(conn: &Connection, reason: &str) {
    if conn.status().connected() {
        let _ = tokio::time::timeout(
            Duration::from_secs(1),
            conn.close(lapin::protocol::constants::REPLY_SUCCESS, reason.into()),
        )
        .await;
    }
}

/// A short string for AMQP (at most 255 bytes), or an [`Error::Invalid`].
pub(crate) fn short(what: &str, value: &str) -> Result<lapin::types::ShortString> {
    lapin::types::ShortString::try_new(value).map_err(|_| {
        Error::Invalid(format!(
            "{what} is {} bytes; AMQP allows at most 255",
            value.len()
        ))
    })
}
