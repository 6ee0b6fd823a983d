using System.Text;

namespace NodeDns.Node.ResolvConf;

/// <summary>A unified diff of two small texts (resolv.conf sized), for <c>init --dry-run</c>.</summary>
public static class UnifiedDiff
{
    public static string Create(string path, string before, string after)
    {
        string[] a = Lines(before);
        string[] b = Lines(after);
        if (a.SequenceEqual(b))
        {
            return "";
        }

        // Longest common subsequence table; fine for files of a few dozen lines.
        int[,] common = new int[a.Length + 1, b.Length + 1];
        for (int i = a.Length - 1; i >= 0; i--)
        {
            for (int j = b.Length - 1; j >= 0; j--)
            {
                common[i, j] = a[i] == b[j] ? common[i + 1, j + 1] + 1 : Math.Max(common[i + 1, j], common[i, j + 1]);
            }
        }

        var text = new StringBuilder();
        text.Append("--- ").Append(path).Append('\n');
        text.Append("+++ ").Append(path).Append(" (nodedns)\n");
        text.Append($"@@ -1,{a.Length} +1,{b.Length} @@\n");
        int x = 0;
        int y = 0;
        while (x < a.Length || y < b.Length)
        {
            if (x < a.Length && y < b.Length && a[x] == b[y])
            {
                text.Append(' ').Append(a[x++]).Append('\n');
                y++;
            }
            else if (x < a.Length && (y == b.Length || common[x + 1, y] >= common[x, y + 1]))
            {
                text.Append('-').Append(a[x++]).Append('\n');
            }
            else
            {
                text.Append('+').Append(b[y++]).Append('\n');
            }
        }

        return text.ToString();
    }

    private static string[] Lines(string text) =>
        text.Length == 0 ? [] : text.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n');
}
