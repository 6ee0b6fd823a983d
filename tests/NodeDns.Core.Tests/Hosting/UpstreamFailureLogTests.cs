using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using NodeDns.Daemon.Hosting;
using NodeDns.Forwarding;
using NodeDns.Protocol;

namespace NodeDns.Core.Tests.Hosting;

public class UpstreamFailureLogTests
{
    private sealed class ListLogger : ILogger<UpstreamFailureLog>
    {
        public List<string> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Add(formatter(state, exception));
    }

    [Fact]
    public void One_line_per_interval_says_why_and_counts_the_rest()
    {
        var time = new FakeTimeProvider();
        var logger = new ListLogger();
        var log = new UpstreamFailureLog(time, logger);
        var question = new UpstreamQuestion(Wire.Name("dead.example"), DnsType.A, DnsClass.IN, dnssecOk: false, checkingDisabled: false);

        for (int i = 0; i < 5; i++)
        {
            log.Report(question, "127.0.0.1:53 did not answer in time");
        }

        string first = Assert.Single(logger.Lines);
        Assert.Contains("dead.example. 1", first, StringComparison.Ordinal);
        Assert.Contains("did not answer in time", first, StringComparison.Ordinal);

        time.Advance(UpstreamFailureLog.Interval);
        log.Report(question, "127.0.0.1:53 answered SERVFAIL");
        Assert.Equal(2, logger.Lines.Count);
        Assert.Contains("answered SERVFAIL (4 more failed questions", logger.Lines[1], StringComparison.Ordinal);
    }
}
