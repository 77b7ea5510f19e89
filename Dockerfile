# driftwood in a container: built with the Swift toolchain image, run on a small Debian image
# (the same distribution, bookworm, so the C libraries match what the binary was linked against).
#
#   docker build -t driftwood .
#   docker run --rm driftwood check pipelines/model-logs-to-es.yml
#   docker run --rm -i driftwood test pipelines/demo.yml < samples/model_logs.jsonl | head
#
# docker-compose.yml builds it as the `driftwood` service.

# ---- build ---------------------------------------------------------------------------------
FROM swift:6.3-bookworm AS build
# The C shims link libcurl (CCurl), zlib and libdeflate (CZlib).
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get -q update \
    && apt-get -q install -y --no-install-recommends libcurl4-openssl-dev zlib1g-dev libdeflate-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /build
# Dependencies on a layer of their own, rebuilt only when Package.swift changes.
COPY Package.swift ./
RUN swift package resolve
# The whole package (SwiftPM wants every target's folder, tests included, to load the manifest).
COPY . .
# The Swift runtime and Foundation linked in statically: the runtime image needs no toolchain.
RUN swift build -c release --product driftwood --static-swift-stdlib \
    && install -D -m 0755 "$(swift build -c release --show-bin-path)/driftwood" /staging/usr/local/bin/driftwood \
    && install -D -m 0755 /usr/libexec/swift/linux/swift-backtrace-static /staging/usr/local/libexec/swift-backtrace-static

# ---- run -----------------------------------------------------------------------------------
FROM debian:bookworm-slim
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get -q update \
    && apt-get -q install -y --no-install-recommends libcurl4 zlib1g libdeflate0 libstdc++6 ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/*
# A user of its own; /var/lib/driftwood (checkpoints, dead letters) is where docker-compose.yml
# mounts a volume, which takes this directory's owner when it is first created.
RUN useradd --system --uid 10001 --user-group --home-dir /opt/driftwood --shell /usr/sbin/nologin driftwood \
    && install -d -o driftwood -g driftwood /var/lib/driftwood /opt/driftwood/out /opt/driftwood/.driftwood
COPY --from=build /staging/ /
WORKDIR /opt/driftwood
# Relative paths in a pipeline resolve against the working directory: the pipelines, the index
# template and the sample registry, baseline and logs are where the pipelines expect them.
COPY pipelines ./pipelines
COPY templates ./templates
COPY samples ./samples
# A crash prints a symbolicated backtrace of every thread to stderr.
ENV SWIFT_BACKTRACE=enable=yes,sanitize=yes,threads=all,images=all,interactive=no,swift-backtrace=/usr/local/libexec/swift-backtrace-static
USER driftwood:driftwood
# /metrics and /health, when the pipeline's metrics.address listens on 0.0.0.0:9600.
EXPOSE 9600
ENTRYPOINT ["driftwood"]
CMD ["--help"]
