//! Shared helpers: unique topologies, a running consumer, polling with deadlines.

use std::{
    future::Future,
    process::Command,
    time::{Duration, Instant},
};

use callhook_consumer::{AmqpConfig, Consumer, Delivery, Publisher, Topology};
use lapin::{
    Channel, Connection, ConnectionProperties,
    message::BasicGetMessage,
    options::{BasicGetOptions, QueueDeclareOptions},
    types::{AMQPValue, FieldTable},
};
use serde_json::Value;
use tokio::{sync::mpsc, task::JoinHandle};
use tokio_util::sync::CancellationToken;

pub const DEADLINE: Duration = Duration::from_secs(30);

pub fn amqp_url() -> String {
    std::env::var("CALLHOOK_TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

/// Polls `f` until it answers `Some`, failing the test after [`DEADLINE`].
pub async fn eventually<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A unique topology, declared, with a side channel for the test's own checks.
pub struct TestBroker {
    pub id: String,
    pub topology: Topology,
    pub config: AmqpConfig,
    pub conn: Connection,
    pub channel: Channel,
    cleaned: bool,
}

impl TestBroker {
    pub async fn new() -> Self {
        Self::with(|_| {}).await
    }

    pub async fn with(tweak: impl FnOnce(&mut Topology)) -> Self {
        let id = format!("t-{}", ulid::Ulid::generate());
        let mut topology = Topology::with_prefix(&id);
        tweak(&mut topology);
        let config = AmqpConfig {
            connection_name: id.clone(),
            prefetch: 4,
            reconnect_min: Duration::from_millis(50),
            reconnect_max: Duration::from_millis(500),
            confirm_timeout: Duration::from_secs(5),
            ..AmqpConfig::with_url(amqp_url())
        };
        let conn = Connection::connect(
            &amqp_url(),
            ConnectionProperties::default().with_connection_name(format!("{id}-test").into()),
        )
        .await
        .unwrap();
        let channel = conn.create_channel().await.unwrap();
        topology.declare(&channel).await.unwrap();
        Self {
            id,
            topology,
            config,
            conn,
            channel,
            cleaned: false,
        }
    }

    pub async fn publisher(&self) -> Publisher {
        Publisher::connect(self.config.clone(), self.topology.clone())
            .await
            .unwrap()
    }

    pub fn start_consumer(&self) -> RunningConsumer {
        RunningConsumer::start(self.config.clone(), self.topology.clone())
    }

    /// One message from `queue` (auto-acked), waiting for it.
    pub async fn get(&self, queue: &str) -> BasicGetMessage {
        let channel = self.channel.clone();
        eventually(&format!("a message on {queue}"), || {
            let channel = channel.clone();
            async move {
                let options = BasicGetOptions { no_ack: true };
                channel.basic_get(queue.into(), options).await.unwrap()
            }
        })
        .await
    }

    /// Ready messages in `queue` (passive declare).
    pub async fn ready(&self, queue: &str) -> u32 {
        let options = QueueDeclareOptions {
            passive: true,
            ..QueueDeclareOptions::default()
        };
        self.channel
            .queue_declare(queue.into(), options, FieldTable::default())
            .await
            .unwrap()
            .message_count()
    }

    /// Waits until the broker lists no connection named `<id>-<role>`.
    pub async fn wait_connection_gone(&self, role: &str) {
        let name = format!("{}-{role}", self.id);
        eventually(&format!("connection {name} to close"), || {
            let gone = connection_pids(&name).is_empty();
            async move { gone.then_some(()) }
        })
        .await;
    }

    /// Deletes the topology (the same happens on drop, so a failing test cleans up too).
    pub async fn cleanup(mut self) {
        self.topology.delete(&self.channel).await.unwrap();
        let _ = self.conn.close(200, "done".into()).await;
        self.cleaned = true;
    }
}

impl Drop for TestBroker {
    fn drop(&mut self) {
        if self.cleaned {
            return;
        }
        // Drop cannot await: delete on a fresh connection from a thread of its own.
        let topology = self.topology.clone();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let conn =
                    Connection::connect(&amqp_url(), ConnectionProperties::default()).await?;
                let channel = conn.create_channel().await?;
                let _ = topology.delete(&channel).await;
                conn.close(200, "cleanup".into()).await
            })
        })
        .join();
    }
}

/// A consumer running in a task, with its deliveries and its connected flag.
pub struct RunningConsumer {
    pub rx: mpsc::Receiver<Delivery>,
    pub connected: tokio::sync::watch::Receiver<bool>,
    pub shutdown: CancellationToken,
    pub task: JoinHandle<callhook_consumer::Result<()>>,
}

impl RunningConsumer {
    pub fn start(config: AmqpConfig, topology: Topology) -> Self {
        let consumer = Consumer::new(config, topology).unwrap();
        let connected = consumer.connected();
        let (tx, rx) = mpsc::channel(8);
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(consumer.run(tx, shutdown.clone()));
        Self {
            rx,
            connected,
            shutdown,
            task,
        }
    }

    pub async fn next(&mut self) -> Delivery {
        tokio::time::timeout(DEADLINE, self.rx.recv())
            .await
            .expect("a delivery in time")
            .expect("the consumer is running")
    }

    pub async fn wait_connected(&mut self, want: bool) {
        tokio::time::timeout(DEADLINE, self.connected.wait_for(|c| *c == want))
            .await
            .expect("the connected flag in time")
            .unwrap();
    }

    pub async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(DEADLINE, self.task)
            .await
            .expect("run returns after shutdown")
            .unwrap()
            .unwrap();
    }
}

pub fn rabbitmqctl(args: &[&str]) -> String {
    let out = Command::new("rabbitmqctl")
        .args(args)
        .output()
        .expect("rabbitmqctl runs");
    assert!(
        out.status.success(),
        "rabbitmqctl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

pub fn rabbitmqctl_json(args: &[&str]) -> Vec<Value> {
    let mut all = args.to_vec();
    all.extend(["--formatter", "json", "-q"]);
    serde_json::from_str(&rabbitmqctl(&all)).unwrap()
}

/// The pids of the broker's connections whose client-provided name is `name`. (The
/// JSON formatter prints pids as `#PID<…>`, which `close_connection` does not take;
/// the plain output prints them as `<rabbit@host.…>`, which it does.)
pub fn connection_pids(name: &str) -> Vec<String> {
    let quoted = format!("\"{name}\"");
    rabbitmqctl(&[
        "list_connections",
        "pid",
        "client_properties",
        "-q",
        "--no-table-headers",
    ])
    .lines()
    .filter(|line| line.contains(&quoted))
    .filter_map(|line| line.split('\t').next())
    .map(str::to_string)
    .collect()
}

/// A queue's arguments from `list_queues --formatter json` (`[[key, type, value]]`)
/// as a JSON object.
pub fn arguments(queue: &Value) -> Value {
    let mut map = serde_json::Map::new();
    for arg in queue["arguments"].as_array().unwrap() {
        map.insert(arg[0].as_str().unwrap().to_string(), arg[2].clone());
    }
    Value::Object(map)
}

pub fn header<'a>(headers: &'a FieldTable, name: &str) -> &'a AMQPValue {
    headers
        .inner()
        .get(name)
        .unwrap_or_else(|| panic!("header {name}"))
}

pub fn header_string(headers: &FieldTable, name: &str) -> String {
    match header(headers, name) {
        AMQPValue::LongString(s) => String::from_utf8(s.as_bytes().to_vec()).unwrap(),
        AMQPValue::ShortString(s) => s.to_string(),
        other => panic!("header {name} is {other:?}"),
    }
}
