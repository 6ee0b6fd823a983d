namespace NodeDns.Node.ResolvConf;

public enum ResolvLineKind
{
    Blank,
    Comment,
    Nameserver,
    Search,
    Domain,
    Options,
    Sortlist,

    /// <summary>A keyword glibc does not know; kept as it is.</summary>
    Other,
}

/// <summary>One line of a resolv.conf, with its original text so that a rewrite keeps everything it does not change.</summary>
public sealed record ResolvLine(ResolvLineKind Kind, string Text, IReadOnlyList<string> Values);

/// <summary>
/// A resolv.conf parsed fully (resolv.conf(5)): nameserver, search, domain, options, sortlist, comments ('#' or ';'
/// at the start of a line), blank lines and anything else, in order.
/// </summary>
public sealed class ResolvConfFile
{
    public ResolvConfFile(IReadOnlyList<ResolvLine> lines) => Lines = lines;

    public IReadOnlyList<ResolvLine> Lines { get; }

    public IEnumerable<string> Nameservers => Lines.Where(l => l.Kind == ResolvLineKind.Nameserver).Select(l => l.Values[0]);

    /// <summary>The effective search list: the last search or domain line wins, as in glibc.</summary>
    public IReadOnlyList<string> Search =>
        Lines.LastOrDefault(l => l.Kind is ResolvLineKind.Search or ResolvLineKind.Domain)?.Values ?? [];

    public IEnumerable<string> Options => Lines.Where(l => l.Kind == ResolvLineKind.Options).SelectMany(l => l.Values);

    public static ResolvConfFile Parse(string text)
    {
        var lines = new List<ResolvLine>();
        foreach (string raw in text.ReplaceLineEndings("\n").Split('\n'))
        {
            lines.Add(ParseLine(raw));
        }

        if (lines.Count > 0 && lines[^1] is { Kind: ResolvLineKind.Blank, Text: "" })
        {
            lines.RemoveAt(lines.Count - 1); // the final newline
        }

        return new ResolvConfFile(lines);
    }

    private static ResolvLine ParseLine(string raw)
    {
        string trimmed = raw.Trim();
        if (trimmed.Length == 0)
        {
            return new ResolvLine(ResolvLineKind.Blank, raw, []);
        }

        if (trimmed[0] is '#' or ';')
        {
            return new ResolvLine(ResolvLineKind.Comment, raw, []);
        }

        string withoutComment = trimmed.Split('#', ';')[0];
        string[] fields = withoutComment.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries); // any whitespace, as Trim() above
        ResolvLineKind kind = fields[0] switch
        {
            "nameserver" when fields.Length >= 2 => ResolvLineKind.Nameserver,
            "search" => ResolvLineKind.Search,
            "domain" => ResolvLineKind.Domain,
            "options" => ResolvLineKind.Options,
            "sortlist" => ResolvLineKind.Sortlist,
            _ => ResolvLineKind.Other,
        };
        return new ResolvLine(kind, raw, kind == ResolvLineKind.Other ? fields : fields[1..]);
    }

    public override string ToString() => string.Concat(Lines.Select(l => l.Text + "\n"));
}
