using NodeDns.Fuzz;

namespace NodeDns.Core.Tests;

/// <summary>
/// Replays the fuzzing seed corpus and every saved crash input (tests/fuzz/regressions/TARGET/, where a crash found by
/// tests/fuzz/run.sh is copied) through the fuzz targets: none may throw.
/// </summary>
public class FuzzRegressionTests
{
    public static TheoryData<string, string> Inputs()
    {
        var data = new TheoryData<string, string>();
        string root = Path.Combine(RepositoryRoot(), "tests", "fuzz");
        foreach (string target in new[] { "query", "response", "resolvconf" })
        {
            foreach (string folder in new[] { "corpus", "regressions" })
            {
                string dir = Path.Combine(root, folder, target);
                foreach (string file in Directory.GetFiles(dir).Where(f => !f.EndsWith(".keep", StringComparison.Ordinal)))
                {
                    data.Add(target, Path.GetRelativePath(root, file));
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void Fuzz_inputs_are_handled_without_exceptions(string target, string file)
    {
        byte[] input = File.ReadAllBytes(Path.Combine(RepositoryRoot(), "tests", "fuzz", file));
        Action<byte[]> run = target switch
        {
            "query" => bytes => Targets.Query(bytes),
            "response" => bytes => Targets.Response(bytes),
            _ => bytes => Targets.ResolvConf(bytes),
        };
        run(input); // a crash here is the failure
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "NodeDns.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("NodeDns.sln not found");
    }
}
