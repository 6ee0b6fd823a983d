# syntax=docker/dockerfile:1
# Multi-stage build: the SDK compiles nodedns ahead of time (Native AOT), a runtime-deps image runs the one binary.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends clang zlib1g-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Directory.Build.props Directory.Packages.props global.json NodeDns.sln ./
COPY src/ src/
RUN dotnet publish src/NodeDns -c Release -o /out --nologo && rm -f /out/*.dbg /out/*.pdb

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
