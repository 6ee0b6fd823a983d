using System.Globalization;
using System.Text.RegularExpressions;

namespace NodeDns.EndToEnd.Support;

/// <summary>Reads values out of a Prometheus text exposition.</summary>
internal static partial class MetricsText
{
    /// <summary>Sum of the samples of <paramref name="name"/> whose labels include all of <paramref name="labels"/> ("key=value").</summary>
    public static double Value(string metrics, string name, params string[] labels)
    {
        double sum = 0;
        bool found = false;
        foreach (Match match in Sample().Matches(metrics))
        {
            if (match.Groups["name"].Value != name)
            {
                continue;
            }

            string labelText = match.Groups["labels"].Value;
            if (labels.All(l => labelText.Contains($"{l.Split('=')[0]}=\"{l.Split('=', 2)[1]}\"", StringComparison.Ordinal)))
            {
                sum += double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture);
                found = true;
            }
        }

        Assert.True(found, $"no sample of {name} with {string.Join(", ", labels)}");
        return sum;
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[^}]*)\})? (?<value>\S+)$", RegexOptions.Multiline)]
    private static partial Regex Sample();
}
