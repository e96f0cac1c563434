//! An agent's attempt log, newest first: filters, a cursor, and bounded work per call.
//!
//! The log reads the agent's stream with `XREVRANGE` in chunks. `since`/`until` compare
//! with the time the attempt was *recorded* (the stream id's milliseconds), which lets
//! them bound the range itself; that time is the record's `started_at` plus its
//! duration. `integration_id` and `outcome` compare with the entry's own fields, so a
//! record is parsed only when it matches. A call examines at most a bounded number of
//! entries ([`LogQuery::scan_budget`]); a rare filter may thus answer a short (even
//! empty) page whose `next_cursor` continues the scan.

use callhook_model::{AttemptRecord, Outcome};
use redis::streams::StreamRangeReply;

use crate::{Error, Result, Store};

/// The most entries one call examines.
pub const MAX_SCAN: usize = 10_000;
/// The largest page.
pub const MAX_LIMIT: usize = 1_000;

/// Which attempts to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogQuery {
    /// Only this integration's attempts.
    pub integration_id: Option<String>,
    /// Only attempts with this outcome.
    pub outcome: Option<Outcome>,
    /// Only attempts recorded at or after this time (ms since the Unix epoch).
    pub since_ms: Option<i64>,
    /// Only attempts recorded at or before this time (ms since the Unix epoch).
    pub until_ms: Option<i64>,
    /// Page size, 1..=[`MAX_LIMIT`] (clamped).
    pub limit: usize,
    /// `next_cursor` of the previous page: continue with older entries.
    pub cursor: Option<String>,
}

impl Default for LogQuery {
    fn default() -> Self {
        Self {
            integration_id: None,
            outcome: None,
            since_ms: None,
            until_ms: None,
            limit: 50,
            cursor: None,
        }
    }
}

impl LogQuery {
    fn limit(&self) -> usize {
        self.limit.clamp(1, MAX_LIMIT)
    }

    /// The most entries one call examines: twenty per requested item, at least 200,
    /// at most [`MAX_SCAN`].
    pub fn scan_budget(&self) -> usize {
        (self.limit() * 20).clamp(200, MAX_SCAN)
    }

    fn has_field_filters(&self) -> bool {
        self.integration_id.is_some() || self.outcome.is_some()
    }
}

/// One page of the log.
#[derive(Debug, Clone, PartialEq)]
pub struct LogPage {
    /// Records, newest first.
    pub items: Vec<AttemptRecord>,
    /// Pass it as [`LogQuery::cursor`] to continue; `None` when the range is exhausted.
    pub next_cursor: Option<String>,
    /// How many stream entries this call examined.
    pub examined: usize,
}

/// A stream id `ms-seq`, as this store hands them out as cursors.
fn parse_stream_id(id: &str) -> Option<(u64, u64)> {
    let (ms, seq) = id.split_once('-')?;
    Some((ms.parse().ok()?, seq.parse().ok()?))
}

impl Store {
    /// One page of an agent's attempts, newest first (see the module docs).
    pub async fn agent_log(&self, agent_id: &str, query: &LogQuery) -> Result<LogPage> {
        let key = self.keys.agent_attempts(agent_id);
        let limit = query.limit();
        let budget = query.scan_budget();
        let until = query.until_ms.map(|ms| ms.max(0) as u64);
        let since = query.since_ms.map(|ms| ms.max(0) as u64);

        if let (Some(s), Some(u)) = (since, until)
            && s > u
        {
            return Ok(LogPage {
                items: Vec::new(),
                next_cursor: None,
                examined: 0,
            });
        }
        // The newest bound: the cursor (exclusive) or `until` (inclusive; a bare `ms`
        // end covers every sequence number of that millisecond).
        let until_bound = until.map_or_else(|| "+".to_string(), |u| u.to_string());
        let mut end = match &query.cursor {
            Some(c) => {
                let (ms, _) = parse_stream_id(c).ok_or_else(|| Error::InvalidCursor(c.clone()))?;
                if until.is_some_and(|u| ms > u) {
                    until_bound
                } else {
                    format!("({c}")
                }
            }
            None => until_bound,
        };
        let start = since.map_or_else(|| "-".to_string(), |s| s.to_string());

        let mut items = Vec::with_capacity(limit);
        let mut examined = 0;
        let mut last_seen: Option<String> = None;
        let page = |items, next_cursor, examined| LogPage {
            items,
            next_cursor,
            examined,
        };
        loop {
            // Unfiltered, one entry more than needed tells whether another page exists.
            let want = if query.has_field_filters() {
                (budget - examined).min((limit * 4).max(100))
            } else {
                (limit - items.len() + 1).min(budget - examined + 1)
            };
            let mut conn = self.conn.clone();
            let cmd = redis::cmd("XREVRANGE")
                .arg(&key)
                .arg(&end)
                .arg(&start)
                .arg("COUNT")
                .arg(want)
                .to_owned();
            let reply: StreamRangeReply = self.run("agent_log", cmd.query_async(&mut conn)).await?;
            let got = reply.ids.len();
            for entry in reply.ids {
                if items.len() == limit || examined == budget {
                    // An entry remains beyond this page: continue after the last one seen.
                    return Ok(page(items, last_seen, examined));
                }
                examined += 1;
                if matches(query, &entry) {
                    push_record(&mut items, &key, &entry);
                }
                last_seen = Some(entry.id);
            }
            if got < want {
                return Ok(page(items, None, examined));
            }
            if items.len() == limit || examined == budget {
                // The chunk ended exactly at the page's end: more may follow.
                return Ok(page(items, last_seen, examined));
            }
            match &last_seen {
                Some(last) => end = format!("({last}"),
                None => return Ok(page(items, None, examined)),
            }
        }
    }
}

fn push_record(items: &mut Vec<AttemptRecord>, key: &str, entry: &redis::streams::StreamId) {
    match entry.get::<Vec<u8>>("record") {
        Some(json) => match serde_json::from_slice::<AttemptRecord>(&json) {
            Ok(rec) => items.push(rec),
            Err(e) => tracing::warn!(
                key, stream_id = %entry.id, error = %e,
                "skipping an attempt entry whose record does not parse"
            ),
        },
        None => tracing::warn!(
            key, stream_id = %entry.id,
            "skipping an attempt entry without a record field"
        ),
    }
}

fn matches(query: &LogQuery, entry: &redis::streams::StreamId) -> bool {
    if let Some(want) = &query.integration_id
        && entry.get::<String>("integration_id").as_deref() != Some(want.as_str())
    {
        return false;
    }
    if let Some(want) = query.outcome
        && entry.get::<String>("outcome").as_deref() != Some(want.as_str())
    {
        return false;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_ids_parse_and_junk_does_not() {
        assert_eq!(
            parse_stream_id("1796288400123-7"),
            Some((1_796_288_400_123, 7))
        );
        assert_eq!(parse_stream_id("abc"), None);
        assert_eq!(parse_stream_id("1-x"), None);
    }

    #[test]
    fn the_scan_budget_is_bounded() {
        let q = |limit| LogQuery {
            limit,
            ..LogQuery::default()
        };
        assert_eq!(q(1).scan_budget(), 200);
        assert_eq!(q(50).scan_budget(), 1_000);
        assert_eq!(q(100_000).scan_budget(), MAX_SCAN);
    }
}
