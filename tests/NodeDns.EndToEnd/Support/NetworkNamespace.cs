using System.Security.Cryptography;

namespace NodeDns.EndToEnd.Support;

/// <summary>
/// A network namespace of the test's own (loopback up, nothing else), deleted afterwards; with a resolv.conf that
/// <c>ip netns exec</c> bind-mounts over /etc/resolv.conf for every command run in it. Needs root.
/// </summary>
public sealed class NetworkNamespace : IAsyncDisposable
{
    private NetworkNamespace(string name) => Name = name;

    public string Name { get; }
    private string ResolvDirectory => Path.Combine("/etc/netns", Name);

    public static async Task<NetworkNamespace> CreateAsync()
    {
        var ns = new NetworkNamespace("nodedns-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(3)).ToLowerInvariant());
        await Check(Tools.RunAsync("ip", ["netns", "add", ns.Name]), "create the namespace (tests need root)");
        await Check(ns.ExecAsync("ip", "link", "set", "lo", "up"), "bring loopback up");
        return ns;
    }

    public Task<ToolResult> ExecAsync(params string[] command) => Tools.RunAsync("ip", ["netns", "exec", Name, .. command]);

    public async Task<string> ExecOkAsync(params string[] command) => (await Check(ExecAsync(command), string.Join(' ', command))).Output;

    public async Task WriteResolvConfAsync(string content)
    {
        Directory.CreateDirectory(ResolvDirectory);
        await File.WriteAllTextAsync(Path.Combine(ResolvDirectory, "resolv.conf"), content);
    }

    private static async Task<ToolResult> Check(Task<ToolResult> run, string what)
    {
        ToolResult result = await run;
        Assert.True(result.ExitCode == 0, $"{what}: exit {result.ExitCode}: {result.Output}{result.Error}");
        return result;
    }

    public async ValueTask DisposeAsync()
    {
        await Tools.RunAsync("ip", ["netns", "del", Name]);
        if (Directory.Exists(ResolvDirectory))
        {
            Directory.Delete(ResolvDirectory, recursive: true);
        }
    }
}
