# FieldSync server image.
#
#   docker compose up --build          (see compose.yaml)
#   docker build -t fieldsync-server .
#
# Stage 1 builds `fieldsync-server` in release mode with the Swift standard library
# and Foundation linked statically, so the runtime image needs no Swift toolchain:
# only GEOS (libgeos_c), CA certificates and curl (for the health check).

ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

# ------------------------------------------------------------------ build
FROM ${SWIFT_IMAGE} AS build

RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get update \
    && apt-get install -y --no-install-recommends libgeos-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /build

# Resolve dependencies first so that this layer is cached while sources change.
# (Package.resolved may be absent: it is git-ignored.)
COPY Package.swift Package.resolved* ./
RUN swift package resolve

COPY Sources ./Sources
COPY Plugins ./Plugins
COPY Schemas ./Schemas

RUN swift build -c release --product fieldsync-server --static-swift-stdlib

WORKDIR /staging
RUN cp "$(swift build --package-path /build -c release --show-bin-path)/fieldsync-server" ./ \
    && if [ -f /usr/libexec/swift/linux/swift-backtrace-static ]; then \
         cp /usr/libexec/swift/linux/swift-backtrace-static ./; fi \
    && find -L "$(swift build --package-path /build -c release --show-bin-path)/" \
         -maxdepth 1 -regex '.*\.resources$' -exec cp -Ra {} ./ \; \
    && cp -R /build/Schemas ./Schemas

# ------------------------------------------------------------------ runtime
FROM ${RUNTIME_IMAGE}

RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get update \
    && apt-get install -y --no-install-recommends libgeos-c1v5 ca-certificates curl tzdata \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --system --user-group --create-home --home-dir /app fieldsync \
    && mkdir -p /var/lib/fieldsync \
    && chown fieldsync:fieldsync /var/lib/fieldsync

WORKDIR /app
COPY --from=build --chown=fieldsync:fieldsync /staging /app

USER fieldsync:fieldsync

# Listen on every interface *inside the container*; publish the port on the host's
# loopback only (compose.yaml does "127.0.0.1:8080:8080").
ENV FIELDSYNC_HOST=0.0.0.0 \
    FIELDSYNC_PORT=8080 \
    FIELDSYNC_DATA_DIR=/var/lib/fieldsync \
    SWIFT_BACKTRACE=enable=yes,sanitize=yes,threads=all,images=all,interactive=no,swift-backtrace=/app/swift-backtrace-static

VOLUME ["/var/lib/fieldsync"]
EXPOSE 8080

ENTRYPOINT ["/app/fieldsync-server"]
