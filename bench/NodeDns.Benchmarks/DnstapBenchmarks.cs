using System.Net;
using BenchmarkDotNet.Attributes;
using NodeDns.Dnstap;

namespace NodeDns.Benchmarks;

/// <summary>
/// What dnstap adds to a cache hit on a listener thread: queueing the client's query and the answer (two copies
/// into the bounded queue), against encoding them as the writer thread does, and the two together (queue, then
/// drain and encode, as one hit costs the daemon in all). No socket: the reader's side is not on the listener's path.
/// </summary>
[MemoryDiagnoser]
public class DnstapBenchmarks
{
    private readonly DnstapLog _log = new(DnstapMessageTypes.All, 4096);
    private readonly DnstapEncoder _encoder = new("node-a"u8.ToArray(), "nodedns 1.0.0"u8.ToArray());
    private readonly byte[] _frame = new byte[2048];
    private readonly DnstapPeer _client = DnstapPeer.From(IPEndPoint.Parse("10.244.1.17:40112"));
    private readonly DnstapPeer _server = DnstapPeer.From(IPEndPoint.Parse("169.254.20.10:53"));
    private byte[] _query = [];
    private byte[] _response = [];

    [GlobalSetup]
    public void Setup()
    {
        _query = Messages.Query("svc4242.default.svc.cluster.local");
        _response = new byte[_query.Length + 16];
        _query.CopyTo(_response, 0);
    }

    [Benchmark(Baseline = true)]
    public int QueueQueryAndAnswer()
    {
        long at = DnstapLog.Now();
        _log.Log(DnstapMessageTypes.ClientQuery, overTcp: false, _client, _server, _query, at);
        _log.Log(DnstapMessageTypes.ClientResponse, overTcp: false, _client, _server, _response);
        return Drain(encode: false);
    }

    [Benchmark]
    public int QueueAndEncodeQueryAndAnswer()
    {
        long at = DnstapLog.Now();
        _log.Log(DnstapMessageTypes.ClientQuery, overTcp: false, _client, _server, _query, at);
        _log.Log(DnstapMessageTypes.ClientResponse, overTcp: false, _client, _server, _response);
        return Drain(encode: true);
    }

    private int Drain(bool encode)
    {
        int bytes = 0;
        while (_log.Queue.Peek() is { } entry)
        {
            bytes += encode ? _encoder.Write(entry, _frame) : entry.Length;
            _log.Queue.Release(entry);
        }

        return bytes;
    }
}
