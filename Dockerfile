# careloop: build in a full Rust image, run in a small Debian one as a non-root user.
# Without configured keys careloop refuses to listen beyond loopback, so supply one of
# CARELOOP_JWT_SECRET, CARELOOP_JWT_PUBLIC_KEY or CARELOOP_JWKS_FILE when running the image.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY .cargo ./.cargo
COPY src ./src
COPY templates ./templates
COPY migrations ./migrations
COPY data ./data
RUN cargo build --release --locked

FROM debian:bookworm-slim
# libssl3: the bundled libpq speaks TLS to PostgreSQL through the system OpenSSL.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates libssl3 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data careloop \
    && mkdir -p /data \
    && chown careloop /data
COPY --from=build /src/target/release/careloop /usr/local/bin/careloop
USER careloop
WORKDIR /data
VOLUME /data
ENV CARELOOP_BIND=0.0.0.0:8080 \
    DATABASE_URL=/data/careloop.db \
    RUST_LOG=info
EXPOSE 8080
ENTRYPOINT ["careloop"]
CMD ["serve"]
