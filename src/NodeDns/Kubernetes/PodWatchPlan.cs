using k8s;
using NodeDns.Daemon.Configuration;

namespace NodeDns.Daemon.Kubernetes;

/// <summary>Whether to watch pods, against which API server and for which node, decided from settings and environment.</summary>
public sealed record PodWatchPlan(KubernetesClientConfiguration Connection, string NodeName)
{
    /// <returns>The plan, or null when the pod watch is off; <paramref name="problem"/> says why an asked-for watch cannot run.</returns>
    public static PodWatchPlan? Resolve(DaemonSettings settings, IReadOnlyDictionary<string, string?> environment, out string? problem)
    {
        problem = null;
        bool inCluster = !string.IsNullOrEmpty(environment.GetValueOrDefault("KUBERNETES_SERVICE_HOST"));
        if (!(settings.PodWatch ?? (inCluster || settings.Kubeconfig is not null)))
        {
            return null;
        }

        string nodeName = settings.NodeName
            ?? (environment.GetValueOrDefault("NODE_NAME") is { Length: > 0 } fromEnvironment ? fromEnvironment : System.Net.Dns.GetHostName().ToLowerInvariant());
        try
        {
            KubernetesClientConfiguration connection = settings.Kubeconfig is { } path
                ? KubernetesClientConfiguration.BuildConfigFromConfigFile(path)
                : KubernetesClientConfiguration.InClusterConfig();
            return new PodWatchPlan(connection, nodeName);
        }
        catch (Exception e) when (e is k8s.Exceptions.KubeConfigException or IOException or UnauthorizedAccessException or FormatException)
        {
            problem = $"no Kubernetes API to watch pods with ({e.Message}); serving without the pod watch";
            return null;
        }
    }
}
