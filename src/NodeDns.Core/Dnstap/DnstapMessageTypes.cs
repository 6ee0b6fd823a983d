namespace NodeDns.Dnstap;

/// <summary>The dnstap message types NodeDns writes (a set: --dnstap-messages chooses which).</summary>
[Flags]
public enum DnstapMessageTypes : byte
{
    None = 0,

    /// <summary>A query from a client, as received.</summary>
    ClientQuery = 1,

    /// <summary>The answer sent to a client (from the cache or forwarded).</summary>
    ClientResponse = 2,

    /// <summary>A query sent upstream for a miss.</summary>
    ForwarderQuery = 4,

    /// <summary>An upstream's answer that matched a forwarded query.</summary>
    ForwarderResponse = 8,

    All = ClientQuery | ClientResponse | ForwarderQuery | ForwarderResponse,
}

public static class DnstapMessageTypeNames
{
    /// <summary>The names --dnstap-messages takes, as dnstap's Message.Type names them but lower-case and with '-'.</summary>
    public static readonly IReadOnlyDictionary<string, DnstapMessageTypes> ByName = new Dictionary<string, DnstapMessageTypes>(StringComparer.Ordinal)
    {
        ["client-query"] = DnstapMessageTypes.ClientQuery,
        ["client-response"] = DnstapMessageTypes.ClientResponse,
        ["forwarder-query"] = DnstapMessageTypes.ForwarderQuery,
        ["forwarder-response"] = DnstapMessageTypes.ForwarderResponse,
    };

    public static string Format(DnstapMessageTypes types) =>
        string.Join(',', ByName.Where(pair => (types & pair.Value) != 0).Select(pair => pair.Key));
}
