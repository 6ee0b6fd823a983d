using NodeDns.Daemon.Handoff;

namespace NodeDns.Daemon.Hosting;

/// <summary>The takeover this instance started from, if it replaced a running one.</summary>
public sealed class HandoffState(Takeover? takeover)
{
    public Takeover? Takeover { get; } = takeover;
}
