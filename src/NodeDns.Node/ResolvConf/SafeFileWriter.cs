using System.Text;

namespace NodeDns.Node.ResolvConf;

public enum WriteMethod
{
    /// <summary>Written to a temporary file beside it, flushed, then renamed over it: readers see old or new, never half.</summary>
    AtomicRename,

    /// <summary>
    /// The file is a mount point (as /etc/resolv.conf inside a container), where rename fails with EBUSY: rewritten
    /// in place with one write of the whole content after truncation, then flushed to disk.
    /// </summary>
    InPlace,
}

/// <summary>Replaces a file's content safely, keeping its permissions.</summary>
public static class SafeFileWriter
{
    public static WriteMethod Write(string path, string content)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(content);
        string directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        string temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.nodedns-{Environment.ProcessId}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }

            if (File.Exists(path) && !OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(temporary, File.GetUnixFileMode(path));
            }

            File.Move(temporary, path, overwrite: true);
            return WriteMethod.AtomicRename;
        }
        catch (IOException e) when (IsBusy(e))
        {
            File.Delete(temporary);
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Write);
            stream.SetLength(0);
            stream.Write(bytes);
            stream.Flush(flushToDisk: true);
            return WriteMethod.InPlace;
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    /// <summary>EBUSY (16): rename onto a mount point. EXDEV (18) too, in case the directory is another mount.</summary>
    private static bool IsBusy(IOException e) => (e.HResult & 0xFFFF) is 16 or 18 || e.Message.Contains("busy", StringComparison.OrdinalIgnoreCase);
}
