using System.Net;

namespace NodeDns.EndToEnd.Support;

/// <summary>Runs <c>dig</c> (dnsutils) against an address and port.</summary>
internal static class Dig
{
    public static async Task<string> RunAsync(IPEndPoint server, params string[] args)
    {
        ToolResult result = await Tools.RunAsync("dig", [$"@{server.Address}", "-p", server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "+tries=1", "+time=5", .. args]);
        Assert.True(result.ExitCode == 0, $"dig failed ({result.ExitCode}): {result.Output}{result.Error}");
        return result.Output;
    }
}
