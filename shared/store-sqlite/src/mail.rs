//! The local mail outbox: the mailer port for the embedded runtime. It sends
//! nothing; it keeps every message in the store (for the admin page's outbox
//! view) and writes it as an `.eml` file that any mail program opens.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use kontor_platform::{MailError, Mailer, OutgoingMail, StoreError};
use rusqlite::params;
use time::format_description::well_known::{Rfc2822, Rfc3339};
use time::OffsetDateTime;

use crate::{internal, CachedStatements, SqliteStore};

/// A message as the outbox keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMail {
    /// Its place in the outbox: later messages have larger ids.
    pub id: i64,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub order_id: Option<String>,
    pub sent_at: OffsetDateTime,
}

#[derive(Clone)]
pub struct MailOutbox {
    store: SqliteStore,
    eml_dir: Option<PathBuf>,
}

impl SqliteStore {
    /// The mail outbox in this store; with `eml_dir`, every message is also
    /// written there as an `.eml` file.
    pub fn mail_outbox(&self, eml_dir: Option<&Path>) -> MailOutbox {
        MailOutbox {
            store: self.clone(),
            eml_dir: eml_dir.map(Path::to_path_buf),
        }
    }
}

impl MailOutbox {
    /// The newest messages first, those older than the message `before`
    /// when given, at most `limit`.
    pub async fn list(
        &self,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<StoredMail>, StoreError> {
        self.store
            .run(move |connection| {
                let mut statement = connection
                    .prepare_cached(
                        "SELECT id, to_addr, subject, text, html, order_id, sent_at FROM mail_outbox \
                         WHERE ?1 IS NULL OR id < ?1 ORDER BY id DESC LIMIT ?2",
                    )
                    .map_err(internal)?;
                let rows = statement
                    .query_map(params![before, limit as i64], |row| {
                        Ok((
                            row.get::<_, i64>(0)?,
                            row.get::<_, String>(1)?,
                            row.get::<_, String>(2)?,
                            row.get::<_, String>(3)?,
                            row.get::<_, String>(4)?,
                            row.get::<_, Option<String>>(5)?,
                            row.get::<_, String>(6)?,
                        ))
                    })
                    .map_err(internal)?;
                let mut mails = Vec::new();
                for row in rows {
                    let (id, to, subject, text, html, order_id, sent_at) = row.map_err(internal)?;
                    let sent_at = OffsetDateTime::parse(&sent_at, &Rfc3339)
                        .map_err(|e| StoreError::Internal(e.to_string()))?;
                    mails.push(StoredMail { id, to, subject, text, html, order_id, sent_at });
                }
                Ok(mails)
            })
            .await
    }
}

/// The message as an RFC 5322 file with a text and an HTML part.
fn eml(mail: &OutgoingMail, sent_at: OffsetDateTime) -> String {
    let boundary = "kontor-alternative";
    let date = sent_at.format(&Rfc2822).unwrap_or_default();
    format!(
        "From: Kontor <shop@kontor.localhost>\r\nTo: {to}\r\nSubject: {subject}\r\nDate: {date}\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"{boundary}\"\r\n\r\n\
         --{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{text}\r\n\
         --{boundary}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{html}\r\n\
         --{boundary}--\r\n",
        to = mail.to,
        subject = mail.subject,
        text = mail.text,
        html = mail.html,
    )
}

#[async_trait]
impl Mailer for MailOutbox {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), MailError> {
        let sent_at = OffsetDateTime::now_utc();
        let row = mail.clone();
        let stamp = sent_at
            .format(&Rfc3339)
            .map_err(|e| MailError::Rejected(e.to_string()))?;
        let id = self
            .store
            .run(move |connection| {
                connection
                    .execute_cached(
                        "INSERT INTO mail_outbox (to_addr, subject, text, html, order_id, sent_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                        params![row.to.as_str(), row.subject, row.text, row.html, row.order_id.as_ref().map(|o| o.to_string()), stamp],
                    )
                    .map_err(internal)?;
                Ok(connection.last_insert_rowid())
            })
            .await
            .map_err(|e| MailError::Unavailable(e.to_string()))?;
        if let Some(dir) = &self.eml_dir {
            let file = dir.join(format!("{id:06}.eml"));
            let written = std::fs::create_dir_all(dir)
                .and_then(|()| std::fs::write(&file, eml(mail, sent_at)));
            if let Err(error) = written {
                // The message is kept in the store; the file is a convenience.
                tracing::warn!(%error, file = %file.display(), "could not write the .eml file");
            }
        }
        tracing::info!(to = %mail.to, subject = %mail.subject, "e-mail kept in the local outbox");
        Ok(())
    }
}
