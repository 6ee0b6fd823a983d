namespace NodeDns.Daemon.Handoff;

/// <summary>
/// An exclusive advisory lock (flock) on a file, with the PID of the instance that serves in FILE.pid, so that two unrelated
/// instances never share the node's DNS address by accident (SO_REUSEPORT would let them). Released at exit.
/// </summary>
public sealed class InstanceLock : IDisposable
{
    private readonly FileStream _stream;

    private InstanceLock(FileStream stream) => _stream = stream;

    /// <returns>The lock, or null with the holder's PID (as written in the file) when another process holds it.</returns>
    public static InstanceLock? TryAcquire(string path, out string holder)
    {
        holder = "";
        try
        {
            // FileShare.None takes flock(LOCK_EX | LOCK_NB) on Linux.
            var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            File.WriteAllText(HolderFile(path), $"{Environment.ProcessId}\n"); // beside it: the lock blocks other readers
            return new InstanceLock(stream);
        }
        catch (IOException)
        {
            try
            {
                holder = File.ReadAllText(HolderFile(path)).Trim();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                holder = "unknown";
            }

            return null;
        }
    }

    private static string HolderFile(string path) => path + ".pid";

    public void Dispose() => _stream.Dispose();
}
