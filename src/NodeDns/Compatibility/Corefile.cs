namespace NodeDns.Daemon.Compatibility;

/// <summary>Where something is in a Corefile, for error messages: file:line:column.</summary>
public readonly record struct CorefilePosition(string File, int Line, int Column)
{
    public override string ToString() => $"{File}:{Line}:{Column}";
}

/// <summary>A directive with its arguments and, if it has one, its block of sub-directives.</summary>
public sealed record CorefileDirective(string Name, IReadOnlyList<string> Arguments, IReadOnlyList<CorefileDirective> Block, CorefilePosition Position);

/// <summary>A server block: the zones (with optional ports) it serves and its directives.</summary>
public sealed record CorefileServerBlock(IReadOnlyList<string> Keys, IReadOnlyList<CorefileDirective> Directives, CorefilePosition Position);

public sealed class CorefileException(string message) : Exception(message);
