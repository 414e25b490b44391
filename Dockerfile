# tierplan: Swift 6 build stage, slim Debian runtime with libpq5.
# docker compose builds it; see docker-compose.yml and the README's "Deployment" section.
#   docker build -t tierplan .
#   docker run --rm -e DATABASE_URL=postgresql://… tierplan run --as-of 2026-11-01

# ---- build -------------------------------------------------------------------------------------
# Debian 12 on both sides: the binary links against the same glibc and libpq the runtime ships.
FROM swift:6.1-bookworm AS build
RUN export DEBIAN_FRONTEND=noninteractive \
 && apt-get update \
 && apt-get install -y --no-install-recommends libpq-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src

# Dependencies first, so that source changes do not refetch them. Package.* also picks up
# Package.resolved when the checkout has one, and resolve then keeps its pins.
COPY Package.* ./
RUN swift package resolve

# Tests/ too: the manifest declares the test targets (and Tests/TestSupport), and SwiftPM checks
# every target's folder even when it builds only the tierplan product.
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --static-swift-stdlib --product tierplan

# Stage the binary, every resource bundle next to it (tierplan_TierPlanStore.resources holds
# schema.sql, tierplan_TierPlanServer.resources the page templates, both found through
# Bundle.module beside the executable) and the crash backtracer.
RUN mkdir -p /staging \
 && bin="$(swift build -c release --show-bin-path)" \
 && cp "$bin/tierplan" /staging/ \
 && find -L "$bin/" -maxdepth 1 -name '*.resources' -exec cp -R {} /staging/ \; \
 && test -f /staging/tierplan_TierPlanStore.resources/schema.sql \
 && test -f /staging/tierplan_TierPlanServer.resources/Templates/layout.mustache \
 && cp /usr/libexec/swift/linux/swift-backtrace-static /staging/

# ---- runtime -----------------------------------------------------------------------------------
FROM debian:bookworm-slim
# libpq5: the PostgreSQL client library; ca-certificates: sslmode=verify-full; tzdata: time zones.
# The Swift runtime and Foundation are linked in statically. tierplan imports neither
# FoundationNetworking nor FoundationXML, so libcurl4 and libxml2 are not needed.
RUN export DEBIAN_FRONTEND=noninteractive \
 && apt-get update \
 && apt-get install -y --no-install-recommends libpq5 ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 tierplan \
 && useradd --system --uid 10001 --gid tierplan --home-dir /app --no-create-home --shell /usr/sbin/nologin tierplan \
 && mkdir -p /app \
 && chown tierplan:tierplan /app
WORKDIR /app

# /app/tierplan, /app/tierplan_*.resources (schema.sql, Templates/*.mustache), /app/swift-backtrace-static.
COPY --from=build /staging/ /app/
# The example catalog, accounts and usage, so demo data can be loaded from inside the image.
COPY examples /app/examples

# Numeric, so Kubernetes' runAsNonRoot can verify it.
USER 10001:10001
ENV TZ=UTC \
    SWIFT_BACKTRACE=enable=yes,sanitize=yes,threads=all,images=all,interactive=no,swift-backtrace=/app/swift-backtrace-static
EXPOSE 8080
ENTRYPOINT ["/app/tierplan"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]
