using NodeDns.Fuzz;
using SharpFuzz;

// Usage: NodeDns.Fuzz query|response|resolvconf   (run under afl-fuzz; see tests/fuzz/run.sh)
//        NodeDns.Fuzz TARGET FILE...               (replay inputs once, e.g. a crash, outside AFL)
if (args.Length == 0 || args[0] is not ("query" or "response" or "resolvconf"))
{
    Console.Error.WriteLine("usage: NodeDns.Fuzz query|response|resolvconf [FILE...]");
    return 2;
}

ReadOnlySpanAction target = args[0] switch
{
    "query" => Targets.Query,
    "response" => Targets.Response,
    _ => Targets.ResolvConf,
};

if (args.Length > 1)
{
    foreach (string file in args[1..])
    {
        target(File.ReadAllBytes(file));
    }

    return 0;
}

Fuzzer.OutOfProcess.Run(stream =>
{
    using var buffer = new MemoryStream();
    stream.CopyTo(buffer);
    target(buffer.ToArray());
});
return 0;
