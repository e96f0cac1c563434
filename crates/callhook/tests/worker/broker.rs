//! RabbitMQ seen from the test: `rabbitmqctl`, what the broker holds of a queue, the
//! results and dead letters that came out, and raw publishes.

use std::collections::HashMap;
use std::process::Command;
use std::time::{Duration, Instant};

use callhook_consumer::lapin::{
    self, BasicProperties,
    options::{BasicGetOptions, BasicPublishOptions, QueueDeclareOptions},
    types::{AMQPValue, FieldTable},
};
use serde_json::Value;

use crate::helpers::{DEADLINE, TestApp, eventually};

/// Runs `rabbitmqctl` (off the async threads: it takes most of a second).
pub async fn rabbitmqctl(args: &[&str]) -> String {
    let args: Vec<String> = args.iter().map(ToString::to_string).collect();
    tokio::task::spawn_blocking(move || {
        let out = Command::new("rabbitmqctl")
            .args(&args)
            .output()
            .expect("rabbitmqctl runs");
        assert!(
            out.status.success(),
            "rabbitmqctl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    })
    .await
    .unwrap()
}

/// What the broker holds of a queue: ready messages, and messages delivered to this
/// test's workers and not yet acknowledged.
///
/// Both are live: `ready` from a passive declare (answered by the queue itself) and
/// `unacked` from the workers' channels (`rabbitmqctl list_channels`). `rabbitmqctl
/// list_queues` is not used: a quorum queue's counters there are refreshed only every
/// few seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    pub ready: u32,
    pub unacked: u64,
}

/// Unacknowledged deliveries on every channel of the connections named `names`.
pub async fn unacked_on(names: &[String]) -> u64 {
    let pids = connections_named(names).await;
    if pids.is_empty() {
        return 0;
    }
    rabbitmqctl(&[
        "list_channels",
        "connection",
        "messages_unacknowledged",
        "-q",
        "--no-table-headers",
    ])
    .await
    .lines()
    .filter_map(|line| line.split_once('\t'))
    .filter(|(conn, _)| pids.iter().any(|p| p == conn))
    .map(|(_, n)| n.trim().parse::<u64>().unwrap())
    .sum()
}

/// The pids of the broker's connections whose client-provided name is `name`, in the
/// form `close_connection` takes.
pub async fn connection_pids(name: &str) -> Vec<String> {
    connections_named(&[name.to_string()]).await
}

/// The pids of the connections with any of these client-provided names. (The JSON
/// formatter prints pids as `#PID<…>`, which `close_connection` does not take; the
/// plain output prints them as `<rabbit@host.…>`, as `list_channels` does.)
async fn connections_named(names: &[String]) -> Vec<String> {
    let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    rabbitmqctl(&[
        "list_connections",
        "pid",
        "client_properties",
        "-q",
        "--no-table-headers",
    ])
    .await
    .lines()
    .filter(|line| quoted.iter().any(|q| line.contains(q.as_str())))
    .filter_map(|line| line.split('\t').next())
    .map(str::to_string)
    .collect()
}

/// One message from the results exchange.
#[derive(Debug, Clone)]
pub struct ResultMessage {
    pub routing_key: String,
    pub message_id: String,
    pub record: Value,
}

/// One message from the dead-letter queue.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    pub message_id: Option<String>,
    pub content_type: Option<String>,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl DeadLetter {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("dead letter header {name}: {:?}", self.headers))
    }
}

fn string_headers(table: Option<&FieldTable>) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for (k, v) in table.map(FieldTable::inner).into_iter().flatten() {
        let s = match v {
            AMQPValue::LongString(s) => String::from_utf8_lossy(s.as_bytes()).into_owned(),
            AMQPValue::ShortString(s) => s.to_string(),
            _ => continue,
        };
        out.insert(k.to_string(), s);
    }
    out
}

impl TestApp {
    /// Publishes any bytes with any properties to the jobs exchange, confirmed.
    pub async fn publish_raw(&self, routing_key: &str, body: &[u8], props: BasicProperties) {
        let confirm = self
            .confirm
            .basic_publish(
                self.topology.jobs_exchange.as_str().into(),
                routing_key.into(),
                BasicPublishOptions {
                    mandatory: true,
                    immediate: false,
                },
                body,
                props,
            )
            .await
            .unwrap()
            .await
            .unwrap();
        assert!(confirm.is_ack(), "{confirm:?}");
        assert!(confirm.take_message().is_none(), "unroutable");
    }

    /// Ready messages of a queue (a passive declare: cheap, but blind to unacked ones).
    pub async fn ready(&self, queue: &str) -> u32 {
        self.channel
            .queue_declare(
                queue.into(),
                QueueDeclareOptions {
                    passive: true,
                    ..QueueDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await
            .unwrap()
            .message_count()
    }

    /// What the broker holds of `queue` (see [`Held`]).
    pub async fn held(&self, queue: &str) -> Held {
        let ready = self.ready(queue).await;
        let names: Vec<String> = self
            .worker_ids
            .lock()
            .unwrap()
            .iter()
            .map(|id| format!("callhook-{id}-consumer"))
            .collect();
        Held {
            ready,
            unacked: unacked_on(&names).await,
        }
    }

    /// Waits until the broker holds `want` of `queue`. (A nack or a closed channel
    /// reaches the broker a moment after the worker let go.)
    pub async fn wait_held(&self, queue: &str, want: Held) {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let held = self.held(queue).await;
            if held == want {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{queue}: holds {held:?}, expected {want:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the broker holds nothing of the jobs or the retries queue: every
    /// message taken was acknowledged.
    pub async fn wait_jobs_acked(&self) {
        let (jobs, retries) = (&self.topology.jobs_queue, &self.topology.retries_queue);
        let deadline = Instant::now() + DEADLINE;
        loop {
            // One channel consumes both queues, so `unacked` covers both.
            let held = self.held(jobs).await;
            let retries_ready = self.ready(retries).await;
            if held
                == (Held {
                    ready: 0,
                    unacked: 0,
                })
                && retries_ready == 0
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "messages not acknowledged: jobs {held:?}, retries ready {retries_ready}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn drain(&self, queue: &str) -> Vec<lapin::message::BasicGetMessage> {
        let mut got = Vec::new();
        while let Some(msg) = self
            .channel
            .basic_get(queue.into(), BasicGetOptions { no_ack: true })
            .await
            .unwrap()
        {
            got.push(msg);
        }
        got
    }

    /// Every result message so far, once at least `n` have arrived.
    pub async fn results(&self, n: usize) -> Vec<ResultMessage> {
        eventually(&format!("{n} result messages"), || async {
            let new = self.drain(&self.results_queue).await;
            let mut all = self.results.lock().unwrap();
            all.extend(new.into_iter().map(|m| {
                ResultMessage {
                    routing_key: m.delivery.routing_key.to_string(),
                    message_id: m
                        .delivery
                        .properties
                        .message_id()
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                    record: serde_json::from_slice(&m.delivery.data).unwrap(),
                }
            }));
            (all.len() >= n).then(|| all.clone())
        })
        .await
    }

    /// Every dead letter so far, once at least `n` have arrived.
    pub async fn dead_letters(&self, n: usize) -> Vec<DeadLetter> {
        let queue = self.topology.dead_queue.clone();
        eventually(&format!("{n} dead letters"), || async {
            let new = self.drain(&queue).await;
            let mut all = self.dead.lock().unwrap();
            all.extend(new.into_iter().map(|m| {
                let props = &m.delivery.properties;
                DeadLetter {
                    message_id: props.message_id().as_ref().map(ToString::to_string),
                    content_type: props.content_type().as_ref().map(ToString::to_string),
                    headers: string_headers(props.headers().as_ref()),
                    body: m.delivery.data.clone(),
                }
            }));
            (all.len() >= n).then(|| all.clone())
        })
        .await
    }
}
