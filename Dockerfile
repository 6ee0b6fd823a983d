# syntax=docker/dockerfile:1
# Multi-stage, multi-platform build: the SDK compiles nodedns ahead of time (Native AOT) for the target platform on
# the build platform (cross-compiling, no emulation), a runtime-deps image runs the one binary. Both platforms:
#   docker buildx build --platform linux/amd64,linux/arm64 -t REGISTRY/nodedns:TAG --push .
FROM --platform=$BUILDPLATFORM mcr.microsoft.com/dotnet/sdk:10.0 AS build
ARG TARGETARCH
WORKDIR /src
COPY Directory.Build.props Directory.Packages.props global.json NodeDns.sln ./
COPY src/ src/
COPY deploy/publish.sh deploy/
RUN case "$TARGETARCH" in \
      amd64) rid=linux-x64 ;; \
      arm64) rid=linux-arm64 ;; \
      *) echo "unsupported TARGETARCH '$TARGETARCH' (amd64 or arm64)" >&2; exit 1 ;; \
    esac \
    && deploy/publish.sh "$rid" /out \
    && rm -rf /var/lib/apt/lists/*

FROM mcr.microsoft.com/dotnet/runtime-deps:10.0 AS runtime
WORKDIR /app
COPY --from=build /out/nodedns ./
# Runs as root inside the container so that the two capabilities the DaemonSet grants (NET_BIND_SERVICE for
# port 53, NET_ADMIN for the link-local interface and firewall) are effective; every other capability is dropped.
ENV DOTNET_EnableDiagnostics=0
EXPOSE 53/udp 53/tcp 9253/tcp
HEALTHCHECK --interval=10s --timeout=3s CMD ["/bin/bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/9253 && printf 'GET /health HTTP/1.0\\r\\n\\r\\n' >&3 && grep -q '200 OK' <&3"]
ENTRYPOINT ["/app/nodedns"]
CMD ["serve"]
