namespace NodeDns.Protocol;

/// <summary>Records to encode, read by index; <see cref="Includes"/> says which of them go into the message.</summary>
internal interface IRecordSource
{
    int Count { get; }
    bool Includes(int index);
    DnsSection Section(int index);
    ReadOnlySpan<byte> Owner(int index);
    ushort Type(int index);
    ushort Class(int index);
    uint Ttl(int index);

    /// <summary>The RDATA with its names uncompressed.</summary>
    ReadOnlySpan<byte> Data(int index);
}

/// <summary>Records as objects: all of them.</summary>
internal readonly struct RecordObjects(IReadOnlyList<DnsRecord> records) : IRecordSource
{
    public int Count => records.Count;
    public bool Includes(int index) => true;
    public DnsSection Section(int index) => records[index].Section;
    public ReadOnlySpan<byte> Owner(int index) => records[index].Owner;
    public ushort Type(int index) => records[index].Type;
    public ushort Class(int index) => records[index].Class;
    public uint Ttl(int index) => records[index].Ttl;
    public ReadOnlySpan<byte> Data(int index) => records[index].Data;
}

/// <summary>The records of a read response that a scrub kept (see <see cref="ResponseScrubber"/>).</summary>
internal readonly ref struct KeptRecords(DnsResponseMessage response, ReadOnlySpan<bool> keep) : IRecordSource
{
    private readonly ReadOnlySpan<bool> _keep = keep;

    public int Count => response.Records.Length;
    public bool Includes(int index) => _keep[index];
    public DnsSection Section(int index) => response.Records[index].Section;
    public ReadOnlySpan<byte> Owner(int index) => response.Owner(response.Records[index]);
    public ushort Type(int index) => response.Records[index].Type;
    public ushort Class(int index) => response.Records[index].Class;
    public uint Ttl(int index) => response.Records[index].Ttl;
    public ReadOnlySpan<byte> Data(int index) => response.Data(response.Records[index]);
}
