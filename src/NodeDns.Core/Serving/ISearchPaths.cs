namespace NodeDns.Serving;

/// <summary>
/// A pod's DNS search list, in order, in lower-case wire form, with a number shared by every pod whose list is the
/// same (answers found by autopath are cached per list).
/// </summary>
public sealed record SearchList(int Id, IReadOnlyList<byte[]> Domains);

/// <summary>The search list of a client that is a known pod of this node; null for anyone else.</summary>
public interface ISearchPaths
{
    SearchList? For(ClientAddress client);
}
