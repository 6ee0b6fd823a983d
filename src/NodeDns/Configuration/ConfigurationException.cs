namespace NodeDns.Daemon.Configuration;

/// <summary>A bad option, value or config file. The message names the option and the value; the process exits 2.</summary>
public sealed class ConfigurationException(string message) : Exception(message);
