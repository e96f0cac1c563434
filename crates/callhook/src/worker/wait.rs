//! Waiting out an unreachable dependency: retry with capped, jittered backoff.

use std::future::Future;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

const MIN: Duration = Duration::from_millis(50);
const MAX: Duration = Duration::from_secs(5);

/// Runs `op` until it succeeds, sleeping between failures; `None` if `abort` fires
/// first. Every error is retried: losing a record is worse than waiting, and a
/// permanent error is logged loudly so an operator sees it.
pub(crate) async fn until_ok<T, E, F, Fut>(
    what: &'static str,
    abort: &CancellationToken,
    mut op: F,
) -> Option<T>
where
    E: std::fmt::Display,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut delay = MIN;
    let mut failures = 0u32;
    loop {
        match op().await {
            Ok(v) => {
                if failures > 0 {
                    tracing::info!(operation = what, failures, "dependency is back");
                }
                return Some(v);
            }
            Err(error) => {
                failures += 1;
                metrics::counter!("callhook_dependency_retries_total", "operation" => what)
                    .increment(1);
                if failures == 1 || failures.is_power_of_two() {
                    tracing::warn!(operation = what, failures, %error, "dependency failed; waiting before trying again");
                }
            }
        }
        let jitter = Duration::from_millis(u64::from(ulid::Ulid::generate().random() as u16 % 50));
        tokio::select! {
            _ = abort.cancelled() => return None,
            _ = tokio::time::sleep(delay + jitter) => {}
        }
        delay = (delay * 2).min(MAX);
    }
}
