# syntax=docker/dockerfile:1
# Multi-stage build: the SDK publishes nodedns, a small runtime image runs it.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY Directory.Build.props Directory.Packages.props global.json NodeDns.sln ./
COPY src/ src/
RUN dotnet publish src/NodeDns -c Release -o /out --nologo

FROM mcr.microsoft.com/dotnet/runtime:10.0 AS runtime
ENV DOTNET_gcServer=0 \
    DOTNET_GCgen0size=0x1000000 \
    DOTNET_TieredPGO=1
WORKDIR /app
COPY --from=build /out/ ./
# Runs as root inside the container so that the two capabilities the DaemonSet grants (NET_BIND_SERVICE for
# port 53, NET_ADMIN for the link-local interface and firewall) are effective; every other capability is dropped.
ENV DOTNET_EnableDiagnostics=0
EXPOSE 53/udp 53/tcp 9253/tcp
HEALTHCHECK --interval=10s --timeout=3s CMD ["/bin/sh", "-c", "exec 3<>/dev/tcp/127.0.0.1/9253 && printf 'GET /health HTTP/1.0\\r\\n\\r\\n' >&3 && grep -q '200 OK' <&3"]
ENTRYPOINT ["/app/nodedns"]
CMD ["serve"]
