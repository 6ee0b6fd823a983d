using System.Text.Json;

namespace NodeDns.Daemon.Configuration;

/// <summary>The value of one option and where it came from, so errors can name it the way the user wrote it.</summary>
public sealed record RawValue(IReadOnlyList<string> Values, string Source)
{
    /// <summary>The value that counts for an option given once: the last one.</summary>
    public string Last => Values[^1];
}

/// <summary>
/// Collects option values from the JSON config file, the environment (<c>NODEDNS_*</c>) and the command line;
/// command line beats environment beats file.
/// </summary>
public static class RawSettings
{
    public static Dictionary<OptionSpec, RawValue> Merge(IReadOnlyDictionary<OptionSpec, List<string>> commandLine,
        IReadOnlyDictionary<string, string?> environment)
    {
        var merged = new Dictionary<OptionSpec, RawValue>();
        string? configPath = commandLine.GetValueOrDefault(OptionCatalog.Config)?.LastOrDefault()
            ?? environment.GetValueOrDefault(OptionCatalog.Config.EnvironmentVariable);
        if (!string.IsNullOrEmpty(configPath))
        {
            merged[OptionCatalog.Config] = new RawValue([configPath], OptionCatalog.Config.Flag);
            foreach ((OptionSpec option, List<string> values) in ReadFile(configPath))
            {
                merged[option] = new RawValue(values, $"config file {configPath}: key '{option.JsonKey}'");
            }
        }

        foreach (OptionSpec option in OptionCatalog.All)
        {
            string? fromEnvironment = environment.GetValueOrDefault(option.EnvironmentVariable);
            if (!string.IsNullOrWhiteSpace(fromEnvironment))
            {
                string[] values = option.Repeatable
                    ? fromEnvironment.Split([',', ' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    : [fromEnvironment.Trim()];
                merged[option] = new RawValue(values, option.EnvironmentVariable);
            }

            if (commandLine.TryGetValue(option, out List<string>? fromCommandLine))
            {
                merged[option] = new RawValue(fromCommandLine, option.Flag);
            }
        }

        return merged;
    }

    private static Dictionary<OptionSpec, List<string>> ReadFile(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new ConfigurationException($"--config: cannot read '{path}': {e.Message}");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new ConfigurationException($"--config: '{path}' is not valid JSON: {e.Message}");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new ConfigurationException($"--config: '{path}' must hold a JSON object");
            }

            var values = new Dictionary<OptionSpec, List<string>>();
            foreach (JsonProperty property in document.RootElement.EnumerateObject())
            {
                OptionSpec option = OptionCatalog.All.FirstOrDefault(o => o.JsonKey == property.Name && o != OptionCatalog.Config)
                    ?? throw new ConfigurationException($"--config: '{path}': unknown key '{property.Name}'");
                values[option] = property.Value.ValueKind switch
                {
                    JsonValueKind.Array when option.Repeatable => [.. property.Value.EnumerateArray().Select(e => Scalar(e, option, path))],
                    _ => [Scalar(property.Value, option, path)],
                };
            }

            return values;
        }
    }

    private static string Scalar(JsonElement element, OptionSpec option, string path) => element.ValueKind switch
    {
        JsonValueKind.String => element.GetString()!,
        JsonValueKind.Number => element.GetRawText(),
        JsonValueKind.True or JsonValueKind.False => element.GetRawText(),
        _ => throw new ConfigurationException($"--config: '{path}': key '{option.JsonKey}' has a value of the wrong kind: {element.GetRawText()}"),
    };
}
