using System.Text;

namespace NodeDns.Daemon.Compatibility;

/// <summary>
/// Parses the Caddyfile syntax CoreDNS uses: server blocks <c>zone[:port] [zone...] { ... }</c> holding directives,
/// each a line of words, optionally followed by a <c>{ ... }</c> block of sub-directives. Comments start with '#';
/// words may be quoted. Errors name file, line and column.
/// </summary>
public static class CorefileParser
{
    private readonly record struct Token(string Text, CorefilePosition Position, bool NewLineBefore, bool Quoted);

    public static IReadOnlyList<CorefileServerBlock> Parse(string text, string file)
    {
        List<Token> tokens = Tokenize(text, file);
        var blocks = new List<CorefileServerBlock>();
        int index = 0;
        while (index < tokens.Count)
        {
            CorefilePosition start = tokens[index].Position;
            var keys = new List<string>();
            while (index < tokens.Count && tokens[index].Text != "{")
            {
                if (tokens[index].Text == "}")
                {
                    throw new CorefileException($"{tokens[index].Position}: unexpected '}}'");
                }

                keys.AddRange(tokens[index].Text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
                index++;
            }

            if (index >= tokens.Count)
            {
                throw new CorefileException($"{start}: server block '{string.Join(' ', keys)}' has no '{{'");
            }

            index++; // {
            blocks.Add(new CorefileServerBlock(keys, ParseDirectives(tokens, ref index, start), start));
        }

        return blocks;
    }

    private static List<CorefileDirective> ParseDirectives(List<Token> tokens, ref int index, CorefilePosition opened)
    {
        var directives = new List<CorefileDirective>();
        while (true)
        {
            if (index >= tokens.Count)
            {
                throw new CorefileException($"{opened}: '{{' is never closed");
            }

            Token name = tokens[index];
            if (name.Text == "}" && !name.Quoted)
            {
                index++;
                return directives;
            }

            if (name.Text == "{" && !name.Quoted)
            {
                throw new CorefileException($"{name.Position}: unexpected '{{'");
            }

            index++;
            var arguments = new List<string>();
            while (index < tokens.Count && !tokens[index].NewLineBefore && (tokens[index].Quoted || tokens[index].Text is not ("{" or "}")))
            {
                arguments.Add(tokens[index].Text);
                index++;
            }

            List<CorefileDirective> block = [];
            if (index < tokens.Count && tokens[index].Text == "{" && !tokens[index].NewLineBefore)
            {
                CorefilePosition blockStart = tokens[index].Position;
                index++;
                block = ParseDirectives(tokens, ref index, blockStart);
            }

            directives.Add(new CorefileDirective(name.Text, arguments, block, name.Position));
        }
    }

    private static List<Token> Tokenize(string text, string file)
    {
        var tokens = new List<Token>();
        int line = 1;
        int column = 1;
        bool newLine = true;
        int i = 0;
        while (i < text.Length)
        {
            char c = text[i];
            if (c == '\n')
            {
                line++;
                column = 1;
                newLine = true;
                i++;
                continue;
            }

            if (char.IsWhiteSpace(c))
            {
                Advance(ref i, ref column);
                continue;
            }

            if (c == '#')
            {
                while (i < text.Length && text[i] != '\n')
                {
                    i++;
                }

                continue;
            }

            var position = new CorefilePosition(file, line, column);
            if (c is '{' or '}')
            {
                tokens.Add(new Token(c.ToString(), position, newLine, false));
                newLine = false;
                Advance(ref i, ref column);
                continue;
            }

            var word = new StringBuilder();
            bool quoted = c == '"';
            if (quoted)
            {
                Advance(ref i, ref column);
                while (i < text.Length && text[i] != '"')
                {
                    if (text[i] == '\n')
                    {
                        throw new CorefileException($"{position}: unterminated quoted string");
                    }

                    word.Append(text[i]);
                    Advance(ref i, ref column);
                }

                if (i >= text.Length)
                {
                    throw new CorefileException($"{position}: unterminated quoted string");
                }

                Advance(ref i, ref column);
            }
            else
            {
                while (i < text.Length && !char.IsWhiteSpace(text[i]) && text[i] is not ('{' or '}' or '#'))
                {
                    word.Append(text[i]);
                    Advance(ref i, ref column);
                }
            }

            tokens.Add(new Token(word.ToString(), position, newLine, quoted));
            newLine = false;
        }

        return tokens;
    }

    private static void Advance(ref int index, ref int column)
    {
        index++;
        column++;
    }
}
