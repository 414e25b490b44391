# tierplan: Swift 6 build stage, slim runtime with libpq5.
# docker compose builds it; see docker-compose.yml and the README's "Deployment" section.

FROM swift:6.1-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev pkg-config && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first, so that source changes do not refetch them.
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --static-swift-stdlib --product tierplan \
 && mkdir -p /staging \
 && cp .build/release/tierplan /staging/ \
 && cp -R .build/release/tierplan_TierPlanStore.resources /staging/

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --home-dir /app tierplan
WORKDIR /app
# The binary reads schema.sql from the resource bundle next to it.
COPY --from=build /staging/ /app/
COPY examples /app/examples
USER tierplan
ENV TZ=UTC
EXPOSE 8080
ENTRYPOINT ["/app/tierplan"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]
