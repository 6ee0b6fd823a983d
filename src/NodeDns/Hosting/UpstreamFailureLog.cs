using Microsoft.Extensions.Logging;
using NodeDns.Forwarding;

namespace NodeDns.Daemon.Hosting;

/// <summary>
/// Says why questions could not be answered upstream, at most once per <see cref="Interval"/>: the first failure of
/// an interval is logged with its reason, the rest are counted into the next line. A dead upstream under load writes
/// one line every 10 s, not one per query.
/// </summary>
public sealed partial class UpstreamFailureLog(TimeProvider time, ILogger<UpstreamFailureLog> logger)
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    private long _nextLogAt;
    private long _suppressed;

    public void Report(UpstreamQuestion question, string reason)
    {
        long now = time.GetTimestamp();
        long next = Interlocked.Read(ref _nextLogAt);
        if (now < next || Interlocked.CompareExchange(ref _nextLogAt, now + (long)(Interval.TotalSeconds * time.TimestampFrequency), next) != next)
        {
            Interlocked.Increment(ref _suppressed);
            return;
        }

        LogFailure(question.ToString(), reason, Interlocked.Exchange(ref _suppressed, 0));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "no upstream answered {Question}: {Reason} ({Suppressed} more failed questions not logged since the last line)")]
    private partial void LogFailure(string question, string reason, long suppressed);
}
