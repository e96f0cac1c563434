# The gates, as CI runs them (.ci/run), and the benchmarks.
.PHONY: fmt lint test bench demo

fmt:
	cargo fmt --all

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --all-features -- -D warnings

# The README's test command. Needs RabbitMQ and Redis on 127.0.0.1 (see .ci/run).
test:
	cargo test --workspace --locked

bench:
	cargo bench -p callhook-render --bench render
