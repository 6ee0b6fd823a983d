using NodeDns.Protocol;

namespace NodeDns.Core.Tests;

/// <summary>Answers in the cache's form, built from <see cref="Wire"/> messages through the product's reader and template builder.</summary>
internal static class TestAnswers
{
    /// <summary>An answer to <paramref name="name"/> with <paramref name="records"/> A records, record r carrying <paramref name="address"/>(r).</summary>
    public static ResponseTemplate ARecords(string name, int records, Func<int, byte[]> address, uint ttl = 600)
    {
        var wire = new Wire().Header(1, 0x8180, 1, records, 0, 0).Question(name);
        for (int r = 0; r < records; r++)
        {
            wire.Record(name, 1, ttl, address(r));
        }

        return ResponseReader.TryRead(wire.ToArray(), out DnsResponseMessage response)
            ? ResponseTemplateBuilder.Build(Wire.Name(name), 1, 1, 0, false, response.ToRecords(), ttl)!
            : throw new InvalidOperationException("the test answer does not read back");
    }
}
