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
        Target(target)(input); // a crash here is the failure
    }

    /// <summary>
    /// The corpus and the saved inputs of a target run one after another on one thread, as AFL's persistent mode runs
    /// them: state left by one input (the per-thread writers, the shared cache) is there for the next, which is how
    /// the compression bug of issue 13 (the pair issue13-pair-1/2 in regressions/response) escaped the one-input cases.
    /// </summary>
    [Theory]
    [InlineData("query")]
    [InlineData("response")]
    [InlineData("resolvconf")]
    public void All_inputs_of_a_target_run_in_order_in_one_thread(string target)
    {
        string root = Path.Combine(RepositoryRoot(), "tests", "fuzz");
        Action<byte[]> run = Target(target);
        string[] files = [.. new[] { "corpus", "regressions" }
            .SelectMany(folder => Directory.GetFiles(Path.Combine(root, folder, target)).Order(StringComparer.Ordinal))
            .Where(f => !f.EndsWith(".keep", StringComparison.Ordinal))];
        Assert.NotEmpty(files);
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                foreach (string file in files)
                {
                    try
                    {
                        run(File.ReadAllBytes(file));
                    }
                    catch (Exception e)
                    {
                        throw new InvalidOperationException($"{Path.GetRelativePath(root, file)}: {e.Message}", e);
                    }
                }
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();
        Assert.True(failure is null, failure?.ToString());
    }

    private static Action<byte[]> Target(string target) => target switch
    {
        "query" => bytes => Targets.Query(bytes),
        "response" => bytes => Targets.Response(bytes),
        _ => bytes => Targets.ResolvConf(bytes),
    };

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
