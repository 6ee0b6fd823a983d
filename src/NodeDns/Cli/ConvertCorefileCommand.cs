using System.Text;
using System.Text.Json;
using NodeDns.Daemon.Compatibility;
using NodeDns.Daemon.Configuration;

namespace NodeDns.Daemon.Cli;

/// <summary>
/// <c>nodedns convert-corefile FILE [--local-ip IP[,IP]] [--cluster-dns IP]</c>: prints the NodeDns JSON config
/// equivalent to a (node-local-dns) Corefile, rendering its <c>__PILLAR__</c> variables from the options given.
/// </summary>
public static class ConvertCorefileCommand
{
    public static int Run(IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        VerbArguments options = VerbArguments.Parse("convert-corefile", args, ["--local-ip", "--cluster-dns", "--dns-port"], [], maxPositional: 1);
        if (options.Positional.Count != 1)
        {
            throw new ConfigurationException("convert-corefile: usage: nodedns convert-corefile FILE [--local-ip IP[,IP]] [--cluster-dns IP]");
        }

        string file = options.Positional[0];
        string text;
        try
        {
            text = File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigurationException($"convert-corefile: cannot read '{file}': {e.Message}");
        }

        string[] localIps = [.. (options.Get("--local-ip") ?? "169.254.20.10").Split(',', StringSplitOptions.RemoveEmptyEntries)];
        int port = int.TryParse(options.Get("--dns-port") ?? "53", out int p) ? p : 53;
        Dictionary<OptionSpec, RawValue> raw;
        try
        {
            string corefile = PillarRenderer.Render(text, localIps, options.Get("--cluster-dns"), KubeDnsConfig.Empty, port, null);
            raw = CorefileTranslator.Translate(CorefileParser.Parse(corefile, file), port, message => error.WriteLine($"nodedns: warning: {message}")).Values;
        }
        catch (CorefileException e)
        {
            throw new ConfigurationException(e.Message);
        }

        SettingsParser.Parse(raw); // validate before printing
        using var json = new MemoryStream();
        using (var writer = new Utf8JsonWriter(json, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            foreach ((OptionSpec option, RawValue value) in raw.OrderBy(r => OptionCatalog.All.ToList().IndexOf(r.Key)))
            {
                writer.WritePropertyName(option.JsonKey);
                if (option.Repeatable)
                {
                    writer.WriteStartArray();
                    foreach (string item in value.Values)
                    {
                        writer.WriteStringValue(item);
                    }

                    writer.WriteEndArray();
                }
                else if (long.TryParse(value.Values[^1], out long number))
                {
                    writer.WriteNumberValue(number);
                }
                else
                {
                    writer.WriteStringValue(value.Values[^1]);
                }
            }

            writer.WriteEndObject();
        }

        output.WriteLine(Encoding.UTF8.GetString(json.ToArray()));
        return 0;
    }
}
