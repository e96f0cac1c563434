# Builds the callhook binary and runs it as an unprivileged user.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p callhook && strip target/release/callhook

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* && useradd --system --uid 10001 callhook
COPY --from=build /src/target/release/callhook /usr/local/bin/callhook
USER 10001
EXPOSE 8080
ENV CALLHOOK_HTTP_ADDR=0.0.0.0:8080
ENTRYPOINT ["callhook"]
CMD ["worker"]
