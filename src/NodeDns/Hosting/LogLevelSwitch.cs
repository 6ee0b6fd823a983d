using Microsoft.Extensions.Logging;

namespace NodeDns.Daemon.Hosting;

/// <summary>The minimum log level, changeable at run time (on reload).</summary>
public sealed class LogLevelSwitch(LogLevel level)
{
    private volatile int _level = (int)level;

    public LogLevel Level
    {
        get => (LogLevel)_level;
        set => _level = (int)value;
    }

    public bool IsEnabled(LogLevel level) => level >= Level;
}
