# Multi-stage build for scimd.
#   docker build -t scimd .
#   docker run -e SCIMD_DATABASE_URL=postgres://... -p 8080:8080 scimd

# ---- builder -----------------------------------------------------------------
FROM rust:1-bookworm AS builder
WORKDIR /build

# Cache dependencies: build them against a dummy crate so this layer is only
# invalidated when Cargo.toml or Cargo.lock change. The dummy lib does not use
# sqlx::migrate!, so migrations/ is not needed yet.
COPY Cargo.toml Cargo.lock ./
# Cargo.toml names the benchmark targets, and cargo refuses a manifest whose targets are
# missing: a dummy for each, its name read from the manifest (the `name` line after each
# `[[bench]]`), so that a new benchmark cannot break this layer.
RUN mkdir src benches \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && for b in $(awk '/^\[\[bench\]\]/ {bench = 1; next} /^\[/ {bench = 0} bench && /^name *=/ {gsub(/[" ]/, "", $3); print $3}' Cargo.toml); do \
           echo 'fn main() {}' > "benches/$b.rs"; \
       done \
    && cargo build --release --locked \
    && rm -rf src benches

# Real build. COPY keeps the files' original mtimes, which may be older than the
# dummy artifacts; touch them so cargo rebuilds the crate instead of reusing the
# dummy binary. migrations/, templates/ and static/ are embedded at compile time.
COPY src ./src
COPY migrations ./migrations
# the page templates and the stylesheet are compiled into the binary (askama, include_str!)
COPY templates ./templates
COPY static ./static
COPY benches ./benches
RUN touch src/main.rs src/lib.rs \
    && cargo build --release --locked

# ---- runtime -----------------------------------------------------------------
FROM debian:bookworm-slim

LABEL org.opencontainers.image.title="scimd" \
      org.opencontainers.image.description="SCIM 2.0 provisioning service for Microsoft Entra ID, on PostgreSQL" \
      org.opencontainers.image.licenses="MIT"

# curl is only for HEALTHCHECK (scimd fetches Entra's signing keys with its own client and CA roots).
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --gid 10001 scimd \
    && useradd --uid 10001 --gid scimd --no-log-init --no-create-home \
       --home-dir /var/lib/scimd --shell /usr/sbin/nologin scimd \
    && install -d -o scimd -g scimd -m 0750 /var/lib/scimd

COPY --from=builder /build/target/release/scimd /usr/local/bin/scimd

WORKDIR /var/lib/scimd
# Numeric so that runAsNonRoot-style checks can verify it.
USER 10001:10001

ENV SCIMD_LISTEN=0.0.0.0:8080 \
    SCIMD_LOG_FORMAT=json
EXPOSE 8080

# Liveness only; /readyz (database reachable) is left to the orchestrator.
# The port is fixed here: change it too if SCIMD_LISTEN is overridden.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:8080/healthz"]

ENTRYPOINT ["/usr/local/bin/scimd"]
CMD ["serve"]
