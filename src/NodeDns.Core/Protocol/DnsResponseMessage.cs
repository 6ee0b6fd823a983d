using NodeDns.Pooling;

namespace NodeDns.Protocol;

/// <summary>
/// An upstream response read by <see cref="ResponseReader"/>: the header fields, the question, and the records with
/// their names stored uncompressed, so they can be filtered and re-encoded safely. Reused: its bytes and record table
/// live in arrays that the next response read into it overwrites. Whoever ends up with a message (the miss path,
/// after encoding the answer) may give it back with <see cref="Return"/>; one that is not given back is collected.
/// </summary>
public sealed class DnsResponseMessage
{
    /// <summary>Messages kept for reuse: about as many as replies being read and encoded at once.</summary>
    private static readonly BoundedPool<DnsResponseMessage> Idle = new(256);

    /// <summary>A message that grew past this (a huge TCP answer) is left to the collector rather than kept.</summary>
    private const int MaxPooledBytes = 16 * 1024;
    private const int MaxPooledRecords = 64;

    private byte[] _bytes = new byte[512];
    private int _length;
    private ResponseRecord[] _records = new ResponseRecord[8];
    private int _recordCount;
    private int _questionNameLength;

    public ushort Id { get; private set; }
    public ushort Flags { get; private set; }
    public ushort QuestionType { get; private set; }
    public ushort QuestionClass { get; private set; }

    /// <summary>The question name as the upstream wrote it (its letter case).</summary>
    public ReadOnlySpan<byte> QuestionName => _bytes.AsSpan(0, _questionNameLength);

    /// <summary>The records in message order; OPT is never among them.</summary>
    public ReadOnlySpan<ResponseRecord> Records => _records.AsSpan(0, _recordCount);

    public int Rcode => DnsHeader.Rcode(Flags);
    public bool Truncated => (Flags & DnsHeader.TcBit) != 0;

    public ReadOnlySpan<byte> Owner(in ResponseRecord record) => _bytes.AsSpan(record.Owner, record.OwnerLength);

    public ReadOnlySpan<byte> Data(in ResponseRecord record) => _bytes.AsSpan(record.Data, record.DataLength);

    /// <summary>The records as objects (copies), for code off the miss path.</summary>
    public IReadOnlyList<DnsRecord> ToRecords()
    {
        var records = new List<DnsRecord>(_recordCount);
        foreach (ResponseRecord record in Records)
        {
            records.Add(new DnsRecord(record.Section, Owner(record).ToArray(), record.Type, record.Class, record.Ttl, Data(record).ToArray()));
        }

        return records;
    }

    /// <summary>
    /// Gives the message back for reuse. Only its last holder may call this, once, and must not touch it afterwards.
    /// </summary>
    public void Return()
    {
        if (_bytes.Length <= MaxPooledBytes && _records.Length <= MaxPooledRecords)
        {
            Idle.TryReturn(this);
        }
    }

    /// <summary>An empty message to read a response into.</summary>
    internal static DnsResponseMessage Rent()
    {
        DnsResponseMessage message = Idle.TryTake(out DnsResponseMessage? idle) ? idle : new DnsResponseMessage();
        message._length = 0;
        message._recordCount = 0;
        message._questionNameLength = 0;
        return message;
    }

    internal void SetHeader(ushort id, ushort flags, ushort questionType, ushort questionClass)
    {
        Id = id;
        Flags = flags;
        QuestionType = questionType;
        QuestionClass = questionClass;
    }

    /// <summary>Room for up to <paramref name="maximum"/> bytes at the end of the message's bytes; keep them with <see cref="Commit"/>.</summary>
    internal Span<byte> Reserve(int maximum)
    {
        if (_length + maximum > _bytes.Length)
        {
            Array.Resize(ref _bytes, Math.Max(_bytes.Length * 2, _length + maximum));
        }

        return _bytes.AsSpan(_length, maximum);
    }

    /// <summary>Keeps <paramref name="count"/> bytes written into <see cref="Reserve"/>'s span; returns where they start.</summary>
    internal int Commit(int count)
    {
        int start = _length;
        _length += count;
        return start;
    }

    /// <summary>Keeps the name just committed at offset 0 as the question name.</summary>
    internal void SetQuestionName(int length) => _questionNameLength = length;

    internal void Add(in ResponseRecord record)
    {
        if (_recordCount == _records.Length)
        {
            Array.Resize(ref _records, _records.Length * 2);
        }

        _records[_recordCount++] = record;
    }
}
